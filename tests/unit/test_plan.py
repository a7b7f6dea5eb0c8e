"""The planner (synthir.plan): Wilson intervals, a pilot through every stage with the scripted
backend, plan.json's measurements and predictions (total and per language, cost from
llm.price), and a real target-mode run landing in the predicted passage interval."""

from __future__ import annotations

import json

import pytest

from synthir.cli import main
from synthir.pipeline import run
from synthir.plan import plan, plan_text, wilson
from synthir.rundir import RunDir
from tests import scripted_backend as sb
from tests.conftest import ONE_GREEDY_QUERY, REPO, demo_config


@pytest.fixture(autouse=True)
def scripted():
    sb.register()
    sb.DEFAULT_GRADE = None
    sb.SENT.clear()
    yield
    sb.DEFAULT_GRADE = 0
    sb.unregister()


def cfg_for(corpus, out, **sets):
    base = {"llm.backend": "scripted", "llm.model": "scripted-plan", "shard_size": 4,
            "filters.language_check": False, "generation.language_check": False, "judge.enabled": True,
            **ONE_GREEDY_QUERY}
    return demo_config(corpus, out, **{**base, **sets})


def test_wilson_interval():
    lo, hi = wilson(5, 10)
    assert lo < 0.5 < hi and round(lo, 3) == 0.237 and round(hi, 3) == 0.763
    assert wilson(0, 8)[0] == 0 and 0 < wilson(0, 8)[1] < 0.4 and wilson(8, 8)[1] == 1.0


def test_plan_measures_a_pilot_and_predicts_the_target(wiki_corpus, tmp_path):
    cfg = cfg_for(wiki_corpus, tmp_path / "out", **{"target.kept_pairs": 500, "llm.price.input_per_mtok": 0.5,
                                                    "llm.price.output_per_mtok": 2.0})
    doc = plan(cfg, 8, progress=False)
    pilot = tmp_path / "out" / ".synthir" / "plan"
    assert json.loads((pilot / "plan.json").read_text()) == json.loads(json.dumps(doc))
    m, p = doc["measured"], doc["prediction"]
    assert m["passages"] == 8 and set(m["keep"]) == {"promptagator/en", "promptagator/fr"}
    for g in m["keep"].values():
        assert g["samples"] == 8 and g["samples"] >= g["parsed"] >= g["filtered"] >= g["roundtrip_kept"] >= g["kept"]
        assert g["interval"][0] <= g["keep_rate"] <= g["interval"][1]
    gen = m["per_call"]["generate:promptagator/en"]
    assert gen["calls_per_passage"] == 1 and gen["completion_tokens_per_call"] == 5 and gen["seconds_per_call"] >= 0
    assert any(k.startswith("judge:judge/") for k in m["per_call"])
    kept = sum(g["kept"] for g in m["keep"].values())
    assert p["passages"]["estimate"] == pytest.approx(500 / (kept / 8), rel=1e-3)
    assert p["passages"]["low"] <= p["passages"]["estimate"] <= p["passages"]["high"]
    assert p["calls"]["generate"]["estimate"] == pytest.approx(2 * p["passages"]["estimate"], rel=1e-2)
    cost = (p["prompt_tokens"]["estimate"] * 0.5 + p["completion_tokens"]["estimate"] * 2.0) / 1e6
    assert p["cost"]["estimate"] == pytest.approx(cost, rel=1e-3) and p["hours"]["low"] <= p["hours"]["high"]
    text = plan_text(doc)
    assert "to reach 500 kept pairs" in text and "plan.json" in text
    sent = len(sb.SENT)
    again = plan(cfg, 8, progress=False)  # the pilot is reused: nothing sent, same measurements
    assert len(sb.SENT) == sent and again["measured"]["keep"] == m["keep"]
    assert not (tmp_path / "out" / "README.md").exists()  # the pilot publishes in its own dir only


def test_per_language_target_and_errors(wiki_corpus, tmp_path, capsys):
    cfg = cfg_for(wiki_corpus, tmp_path / "out", **{"target.kept_pairs": "{fr: 40}"})
    doc = plan(cfg, 6, progress=False)
    fr = doc["measured"]["keep"]["promptagator/fr"]
    assert doc["prediction"]["passages"]["estimate"] == pytest.approx(40 / (fr["kept"] / 6), rel=1e-3)
    assert doc["prediction"]["cost"] is None  # no price: no cost
    code = main(["plan", str(REPO / "configs" / "demo.yaml"), "--pilot", "3", "--set", f"corpus.path={wiki_corpus}"])
    err = capsys.readouterr().err
    assert code == 2 and "synthir plan needs target.kept_pairs" in err and len(err.strip().splitlines()) == 1


def test_a_target_run_lands_in_the_predicted_interval(wiki_corpus, tmp_path):
    target = 30
    cfg = cfg_for(wiki_corpus, tmp_path / "run", **{"target.kept_pairs": target, "sample.n": 8})
    doc = plan(cfg, 8, out=tmp_path / "pilot", progress=False)
    result = run(cfg, progress=False)
    state = json.loads(RunDir(tmp_path / "run").rounds.read_text())
    assert state["stopped"] == "target_reached" and result["rows"]["pairs"] >= target
    p = doc["prediction"]["passages"]
    # passages sampled until the target was reached (the last round may overshoot by < 10%)
    assert p["low"] <= state["sampled"] <= 1.1 * p["high"] + 1, (p, state["sampled"])
