"""The judge stage end to end with a real model: the packaged Qwen2.5-Coder-0.5B-Instruct
(`model: embedded-instruct`, llama.cpp, chat, decoding constrained to the verdict schema) judges
the planted corpus of tests/unit/stages/test_judge.py through `synthir filter` (real USE
embedder and index). Its quality is whatever it is: the test checks that the stage runs, that
every verdict parses (the grammar allows nothing else), that the card reports the counts, and
prints them; the yes/no log-prob judge runs the same way."""

from __future__ import annotations

import json

import pytest
from datasets import load_dataset

from synthir.byo import run_filter
from synthir.config import load_config
from tests.unit.stages.test_judge import CORPUS, PAIRS

pytestmark = pytest.mark.slow
JUDGE = "{backend: llamacpp, model: embedded-instruct, api: chat, max_new_tokens: 16}"


def _run(tmp_path, name, **sets):
    corpus, pairs = tmp_path / "corpus.jsonl", tmp_path / "pairs.jsonl"
    corpus.write_text("".join(json.dumps({"id": k, "text": v, "lang": "en"}) + "\n" for k, v in CORPUS.items()))
    pairs.write_text("".join(json.dumps(p) + "\n" for p in PAIRS))
    (tmp_path / "cfg.yaml").write_text("name: judge-real\nlanguages: [en]\n")
    base = {"corpus.path": corpus, "embedder.name": "use-multilingual", "roundtrip.top_k": 5,
            "filters.language_check": False, "mining.num_negatives": 2, "judge.enabled": True,
            "judge.candidates": 2, "judge.llm": JUDGE, **sets}
    cfg = load_config(tmp_path / "cfg.yaml", [f"{k}={v}" for k, v in base.items()], tmp_path / name)
    return run_filter(cfg, pairs, progress=False)


def test_embedded_instruct_judges_end_to_end(tmp_path):
    result = _run(tmp_path, "chat")
    j = result["funnel"]["judge"]
    print("\nembedded-instruct chat judge:", json.dumps({k: j[k] for k in (
        "in", "kept", "asked", "outcomes", "demoted", "grades", "agreement", "malformed_verdicts")}))
    assert j["in"] == 3 and j["asked"] == 9 and j["verdict_errors"] == 0
    assert j["malformed_verdicts"] == 0  # decoding constrained to {"grade": 0-3}
    assert sum(j["outcomes"].values()) == 3 and j["judge"].startswith("llm-judge:qwen2.5-coder-0.5b-instruct")
    card = (tmp_path / "chat" / "README.md").read_text()
    assert "Judge and relabel" in card and j["template_sha256"] in card
    rows = list(load_dataset(str(tmp_path / "chat"), "judged_qrels", split="train")) if result["rows"]["judged_qrels"] else []
    assert len(rows) == sum(1 for _ in rows) and all(0 <= r["score"] <= 3 for r in rows)
    for p in load_dataset(str(tmp_path / "chat"), "pairs", split="train"):
        print(f"  {p['query']!r}: positive {p['positive_id']} ({p['relabel']}, grade {p['judge_grade']}, "
              f"source {p['source_passage_id'] or p['positive_id']})")


def test_embedded_instruct_yes_no_judge_end_to_end(tmp_path):
    result = _run(tmp_path, "yes_no", **{"judge.kind": "yes_no"})
    j = result["funnel"]["judge"]
    print("\nembedded-instruct yes/no judge:", json.dumps({k: j[k] for k in ("outcomes", "grades", "agreement")}))
    assert j["asked"] == 9 and sum(j["outcomes"].values()) == 3 and j["kind"] == "yes_no"
    # the spread the cuts were applied to: every source and candidate verdict is in the histograms
    q = j["p_yes_quantiles"]
    assert q["source"]["n"] == 3 and q["candidate"]["n"] == 6
    assert "P(yes) spread" in (tmp_path / "yes_no" / "README.md").read_text()


def test_yes_no_judge_warns_when_the_relevance_cut_is_above_the_median_source(tmp_path):
    """Cuts far above anything the 0.5B judge says: the run says so in its summary and card, with
    the median read from the judge's own verdicts (the run dir's judgments)."""
    from synthir.report import summary_text

    result = _run(tmp_path, "high", **{"judge.kind": "yes_no", "judge.yes_no_cuts": "[0.97, 0.98, 0.99]"})
    j = result["funnel"]["judge"]
    sources = sorted(json.loads(line)["p_yes"] for f in (tmp_path / "high").rglob("judgments.jsonl")
                     for line in f.read_text().splitlines() if json.loads(line)["role"] == "source")
    assert len(sources) == 3
    warned = sources[1] < 0.98
    assert (j["cut_warning"] is not None) == warned
    if warned:
        assert f"{j['outcomes']['dropped']} of 3 queries" in j["cut_warning"]
        assert "WARNING  judge: the median source P(yes)" in summary_text(result)
        assert "**Warning:** judge: the median source" in (tmp_path / "high" / "README.md").read_text()
