"""benchmarks/heldout.py: synthetic vs base on every question the synthetic arm never saw."""

from __future__ import annotations

import json

import pytest

from synthir.eval.human import split_queries
from synthir.eval.unseen import norm

from tests.benchmark_scripts import load_benchmark

heldout = load_benchmark("heldout")


def test_partition_keeps_the_test_half_and_drops_seen_train_questions():
    qids = [f"q{i}" for i in range(40)]
    texts = {q: f"Question  {q.upper()}?" for q in qids}
    hs = split_queries(qids, 0.5, 0)
    seen = {norm(texts[hs.train[0]]), norm(texts[hs.train[3]]), "not a dev question"}
    part = heldout.partition(qids, texts, 0.5, 0, seen)
    assert part["test"] == hs.test  # the eval's own test half, untouched
    assert part["unseen_train"] == [q for i, q in enumerate(hs.train) if i not in (0, 3)]
    assert part["left_out"] == 2
    assert not set(part["test"]) & set(part["unseen_train"])
    assert norm("  Wie LÖSCHE ich\teinen Ordner? ") == "wie lösche ich einen ordner?"


def test_summaries_and_the_pool():
    base = {"a": 0.0, "b": 0.5, "c": 1.0}
    synth = {"a": 1.0, "b": 0.5, "c": 0.5}
    s = heldout.summarise(base, synth, ["a", "b"], resamples=50)
    assert (s["queries"], s["base"], s["synthetic"]) == (2, 0.25, 0.75)
    assert s["delta"]["mean"] == pytest.approx(0.5)
    runs = [{"per_question": {"a": {"base": 0.0, "synthetic": 1.0}}},
            {"per_question": {"a": {"base": 1.0, "synthetic": 0.5}}}]  # same id in two dev sets: both kept
    p = heldout.pool(runs, resamples=50)
    assert (p["queries"], p["base"], p["synthetic"]) == (2, 0.5, 0.75)
    assert p["delta"]["mean"] == pytest.approx(0.25)
    row = {"queries": 2, "base": 0.25, "synthetic": 0.75, "delta": s["delta"]}
    md = heldout.table([{"devset": "apps-de", "test_half": row, "unseen_train_half": row, "all_unseen": row}], p)
    assert "| de: train half, unseen | 2 | 0.250 | 0.750 | +0.500" in md and "| pooled: all unseen | 2 |" in md


def test_bad_eval_dirs_are_one_line(tmp_path):
    with pytest.raises(SystemExit, match="eval.json: missing"):
        heldout.heldout(tmp_path, None)
    info = {"options": {}, "human_split": None}
    (tmp_path / "eval.json").write_text(json.dumps(info))
    with pytest.raises(SystemExit, match="no human split"):
        heldout.heldout(tmp_path, None)
    (tmp_path / "eval.json").write_text(json.dumps({**info, "human_split": {"fraction": 0.5, "seed": 0}}))
    with pytest.raises(SystemExit, match="no model/"):
        heldout.heldout(tmp_path, None)
    (tmp_path / "model").mkdir()
    with pytest.raises(SystemExit, match="fewshot.jsonl: missing"):
        heldout.heldout(tmp_path, None)
    with pytest.raises(SystemExit, match="other.jsonl: missing"):
        heldout.heldout(tmp_path, str(tmp_path / "other.jsonl"))
