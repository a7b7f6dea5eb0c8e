"""Target mode (synthir.rounds) through the real runner with the scripted backend: rounds of new
passages until target.kept_pairs (total or per language) is reached, resumable (a re-run
sends nothing; a raised target continues the same run; a round killed after it was recorded
is sampled again identically), the corpus running out, and a budget stopping the rounds."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from data_schemas.records import Passage
from synthir.pipeline import run
from synthir.rounds import round_size
from synthir.rundir import RunDir, read_records
from tests import scripted_backend as sb
from tests.conftest import ONE_GREEDY_QUERY, demo_config


@pytest.fixture(autouse=True)
def scripted():
    sb.register()
    sb.SENT.clear()
    yield
    sb.unregister()


def cfg_for(corpus, out, model, **sets):
    base = {"llm.backend": "scripted", "llm.model": model, "sample.n": 6, "shard_size": 4,
            "filters.language_check": False, "generation.language_check": False, **ONE_GREEDY_QUERY}
    return demo_config(corpus, out, **{**base, **sets})


def passages_of(out):
    return [p.id for s in RunDir(out).shard_dirs() for p in read_records(s.passages, Passage)]


def test_rounds_reach_the_target_resume_and_continue(wiki_corpus, tmp_path):
    out = tmp_path / "target"
    first = run(cfg_for(wiki_corpus, out, "scripted-t1", **{"target.kept_pairs": 20}), progress=False)
    state = json.loads(RunDir(out).rounds.read_text())
    assert state["stopped"] == "target_reached" and state["kept"]["total"] >= 20 and len(state["rounds"]) >= 2
    assert first["rows"]["pairs"] == state["kept"]["total"] and first["stopped"] is None
    ids = passages_of(out)
    assert len(ids) == len(set(ids)) == state["sampled"] > 6  # later rounds drew passages never drawn before
    card = (out / "README.md").read_text()
    assert "**Target mode**" in card and "target reached" in card
    assert f"Sampled {state['sampled']} passages" in card  # the funnel counts every round's passages
    sent = len(sb.SENT)
    assert sent == len(set(sb.SENT)) == first["funnel"]["queries"]["prompts"]

    again = run(cfg_for(wiki_corpus, out, "scripted-t1", **{"target.kept_pairs": 20}), progress=False)
    assert len(sb.SENT) == sent and again["rows"] == first["rows"]  # resumed: nothing to do, nothing sent
    more = run(cfg_for(wiki_corpus, out, "scripted-t1", **{"target.kept_pairs": 35}), progress=False)
    state2 = json.loads(RunDir(out).rounds.read_text())
    assert state2["kept"]["total"] >= 35 and state2["rounds"][:len(state["rounds"])] == state["rounds"]
    assert more["rows"]["pairs"] == state2["kept"]["total"] and len(sb.SENT) == len(set(sb.SENT)) > sent


def test_per_language_target_and_exhausted_corpus(wiki_corpus, tmp_path):
    out = tmp_path / "lang"
    result = run(cfg_for(wiki_corpus, out, "scripted-t2", **{"target.kept_pairs": "{fr: 8}"}), progress=False)
    state = json.loads(RunDir(out).rounds.read_text())
    assert state["stopped"] == "target_reached" and state["kept"]["fr"] >= 8
    small = tmp_path / "small.jsonl"  # 10 passages: a target of 500 runs the corpus dry
    small.write_text("".join(line for line in wiki_corpus.read_text().splitlines(True)[:10]))
    result = run(cfg_for(small, tmp_path / "dry", "scripted-t2", **{"target.kept_pairs": 500}), progress=False)
    assert result["stopped"] == "corpus_exhausted"
    state = json.loads(RunDir(tmp_path / "dry").rounds.read_text())
    assert state["sampled"] == len(set(passages_of(tmp_path / "dry"))) <= 10
    assert "stopped before the target: corpus_exhausted" in (tmp_path / "dry" / "README.md").read_text()


def test_a_round_killed_after_it_was_recorded_is_redrawn_identically(wiki_corpus, tmp_path):
    out = tmp_path / "kill"
    run(cfg_for(wiki_corpus, out, "scripted-t3", **{"target.kept_pairs": 15}), progress=False)
    rd = RunDir(out)
    state = json.loads(rd.rounds.read_text())
    last = state["rounds"][-1]
    before = passages_of(out)
    for k in range(last["first_shard"], last["first_shard"] + last["shards"]):  # as if killed mid-round
        for f in rd.shard(k).base.iterdir():
            f.unlink()
        rd.shard(k).base.rmdir()
    last["written"] = False
    state["stopped"] = None
    rd.rounds.write_text(json.dumps(state))
    sent = len(sb.SENT)
    run(cfg_for(wiki_corpus, out, "scripted-t3", **{"target.kept_pairs": 15}), progress=False)
    assert passages_of(out) == before and len(sb.SENT) == sent  # same draw; its calls from the cache


def test_budget_stops_the_rounds(wiki_corpus, tmp_path):
    result = run(cfg_for(wiki_corpus, tmp_path / "b", "scripted-t4",
                         **{"target.kept_pairs": 1000, "budget.max_tokens": 4000}), progress=False)
    state = json.loads(RunDir(tmp_path / "b").rounds.read_text())
    assert state["stopped"] == "budget" and result["stopped"].startswith("budget (max_tokens")
    assert result["rows"]["pairs"] == state["kept"]["total"] > 0


def test_round_size_follows_the_keep_rate(tmp_path):
    cfg = demo_config(tmp_path / "c.jsonl", tmp_path / "o", **{"target.kept_pairs": 100})
    assert round_size(cfg, Counter(en=10, fr=10), 40, 40) == 160  # need 80 at 0.5/passage: 176, capped at 4x40
    assert round_size(cfg, Counter(en=40, fr=40), 40, 40) == 11   # need 20 at 2/passage: 10, +10%
    assert round_size(cfg, Counter(), 40, 40) == 80               # nothing kept yet: double
    per = demo_config(tmp_path / "c.jsonl", tmp_path / "o", **{"target.kept_pairs": "{en: 30, fr: 10}"})
    assert round_size(per, Counter(en=10, fr=10), 40, 40) == 88   # en needs 20 at 0.25/passage
    fixed = demo_config(tmp_path / "c.jsonl", tmp_path / "o", **{"target.round_passages": 7, "target.kept_pairs": 5})
    assert round_size(fixed, Counter(), 40, 40) == 7
