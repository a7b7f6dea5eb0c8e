"""Budget stops that stop cleanly (synthir.budget), through the real runner (`pipeline.run`:
response cache, ledger, publish) with the scripted backend: a stop mid-run publishes a valid
dataset and says so; a re-run with a larger budget finishes with no LLM call repeated (every
prompt that reached the backend is counted), and ends with the same dataset as a run without
a budget."""

from __future__ import annotations

import json

import pytest
from datasets import load_dataset

from synthir.pipeline import run
from synthir.rundir import RunDir
from tests import scripted_backend as sb
from tests.conftest import ONE_GREEDY_QUERY, demo_config


@pytest.fixture(autouse=True)
def scripted():
    sb.register()
    sb.RULES.clear()
    sb.DEFAULT_GRADE = None  # 3 when the passage holds every query word, else 1
    sb.SENT.clear()
    yield
    sb.DEFAULT_GRADE = 0
    sb.unregister()


def cfg_for(corpus, out, model, **sets):
    base = {"llm.backend": "scripted", "llm.model": model, "llm.batch_size": 2, "languages": "[en]",
            "sample.n": 12, "shard_size": 4, "filters.language_check": False, "generation.language_check": False,
            "mining.num_negatives": 2, **ONE_GREEDY_QUERY}
    return demo_config(corpus, out, **{**base, **sets})


def check_valid(root):
    """Every published config loads; the card is there."""
    files = json.loads((root / "funnel.json").read_text())["rows"]
    for name, n in files.items():
        if n:
            assert len(load_dataset(str(root), name, split="train")) > 0, name
    return (root / "README.md").read_text()


def test_budget_stop_publishes_and_a_larger_budget_finishes_without_repeating_a_call(wiki_corpus, tmp_path):
    out = tmp_path / "budget"
    first = run(cfg_for(wiki_corpus, out, "scripted-b1", **{"budget.max_tokens": 1500}), progress=False)
    sent_first = list(sb.SENT)
    assert first["stopped"].startswith("budget (max_tokens") and 0 < len(sent_first) < 12
    ledger = json.loads(RunDir(out).budget.read_text())
    spent = ledger["spent"]["prompt_tokens"] + ledger["spent"]["completion_tokens"]
    assert 1500 <= spent <= 1500 + 2 * max(len(p.split()) + 5 for p in sent_first)  # overshoot <= one batch
    assert ledger["spent"]["calls"] == len(sent_first) and ledger["stopped"]["reason"].startswith("max_tokens")
    card = check_valid(out)
    assert "**Stopped on budget** (max_tokens" in card
    assert first["rows"]["pairs"] > 0 and first["funnel"]["queries"]["prompts"] == len(sent_first) < 12

    second = run(cfg_for(wiki_corpus, out, "scripted-b1", **{"budget.max_tokens": 1_000_000}), progress=False)
    sent_second = sb.SENT[len(sent_first):]
    assert second["stopped"] is None and "Stopped on budget" not in check_valid(out)
    assert len(set(sb.SENT)) == len(sb.SENT)  # no prompt reached the backend twice
    assert len(sent_first) + len(sent_second) == 12  # one generate call per sampled passage, in all
    assert second["funnel"]["queries"]["prompts"] == 12
    assert json.loads(RunDir(out).budget.read_text())["spent"]["calls"] == 12  # summed over both invocations

    ref = run(cfg_for(wiki_corpus, tmp_path / "reference", "scripted-b1"), progress=False)  # no budget
    assert len(sb.SENT) == 12  # all from the response cache
    ids = lambda d: sorted(r["id"] for r in load_dataset(str(d), "pairs", split="train"))
    assert ids(out) == ids(tmp_path / "reference") and ref["rows"] == second["rows"]


def test_budget_stop_inside_the_judge_keeps_what_was_judged(wiki_corpus, tmp_path):
    """Generation fits the budget, the judge does not: the pairs judged so far are published,
    the others wait (not dropped); a larger budget judges them without asking anything twice."""
    out = tmp_path / "judge-budget"
    full = run(cfg_for(wiki_corpus, tmp_path / "full", "scripted-b2", **{"judge.enabled": True}), progress=False)
    total_calls = len(sb.SENT)
    assert full["funnel"]["judge"]["asked"] == total_calls - 12
    # enough for the 12 generate calls and the first query's 4 verdicts (source + 3 candidates)
    limit = sum(len(p.split()) + 5 for p in sb.SENT[:16]) + 1
    sb.SENT.clear()
    cfg = cfg_for(wiki_corpus, out, "scripted-b3", **{"judge.enabled": True, "budget.max_tokens": limit})
    first = run(cfg, progress=False)
    j = first["funnel"]["judge"]
    assert first["stopped"].startswith("budget") and j["pending"] > 0
    assert 0 < first["rows"]["pairs"] < full["rows"]["pairs"] and "judge" not in first["funnel"]["dropped"]
    assert "not judged yet (budget)" in check_valid(out)
    second = run(cfg.model_copy(update={"budget": cfg.budget.model_copy(update={"max_tokens": None})}),
                 progress=False)
    assert second["stopped"] is None and second["rows"] == full["rows"]
    assert len(sb.SENT) == len(set(sb.SENT)) == total_calls


def test_max_hours_stops_before_any_call_and_still_publishes(wiki_corpus, tmp_path):
    result = run(cfg_for(wiki_corpus, tmp_path / "h", "scripted-b4", **{"budget.max_hours": 1e-9}), progress=False)
    assert sb.SENT == [] and result["stopped"].startswith("budget (max_hours")
    assert result["rows"]["pairs"] == 0 and "Stopped on budget" in (tmp_path / "h" / "README.md").read_text()
