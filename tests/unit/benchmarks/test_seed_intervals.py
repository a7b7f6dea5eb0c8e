"""benchmarks/seed_intervals.py: the query bootstrap beside the Multi-Bootstrap, on planted
per-query scores whose seeds disagree."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from synthir.eval.versus import per_query_record

from tests.benchmark_scripts import load_benchmark

seed_intervals = load_benchmark("seed_intervals")
QIDS = [f"q{i}" for i in range(30)]


def _write(d: Path, synthetic_runs, human_runs=None, unseen=False):
    def run(v):
        return {"ndcg@10": {q: v for q in QIDS}}
    arms = {"base": [run(0.5)], "synthetic": [run(v) for v in synthetic_runs]}
    if human_runs is not None:
        arms["human"] = [run(v) for v in human_runs]
    extra = {}
    if unseen:
        extra["unseen"] = {"qids": ["u1", "u2"], "train_queries": 2, "shown": 0, "base": {"u1": 0.5, "u2": 0.5},
                           "synthetic": [{"u1": v, "u2": v} for v in synthetic_runs]}
    rec = per_query_record("/x/set", "test", QIDS, list(range(len(synthetic_runs))), arms, **extra)
    d.mkdir()
    (d / "per_query.json").write_text(json.dumps(rec))


def test_seeds_that_disagree_widen_the_interval_the_query_bootstrap_reports(tmp_path):
    # seed 0 lifts every question to 0.8, seed 1 leaves it at 0.5 (base); human is 0.6 everywhere
    _write(tmp_path / "run", [0.8, 0.5], [0.6, 0.6], unseen=True)
    res = seed_intervals.intervals(tmp_path / "run", resamples=400)
    rows = {r["what"]: r for r in res["rows"]}
    assert list(rows) == [w for w, _, _ in seed_intervals.COMPARISONS] and res["seeds"] == [0, 1]
    vb = rows["synthetic − base"]
    assert vb["delta"]["ci_low"] == pytest.approx(0.15) and vb["delta"]["ci_high"] == pytest.approx(0.15)
    assert vb["delta_seeds"]["ci_low"] == pytest.approx(0.0) and vb["delta_seeds"]["ci_high"] == pytest.approx(0.3)
    vh = rows["synthetic − human"]
    assert vh["delta"]["ci_low"] > 0 > vh["delta_seeds"]["ci_low"]  # seeds resampled: -0.1 when both draws miss
    assert rows["synthetic − base, every unseen question"]["queries"] == len(QIDS) + 2
    text = seed_intervals.table({"planted": res})
    assert "| planted | synthetic − human | 30 | 2 | +0.050 |" in text and "changes" in text


def test_dirs_that_cannot_answer_stop_with_one_line(tmp_path):
    _write(tmp_path / "one", [0.8], [0.6])
    with pytest.raises(SystemExit, match="one seed only"):
        seed_intervals.intervals(tmp_path / "one")
    _write(tmp_path / "nohuman", [0.8, 0.7])
    with pytest.raises(SystemExit, match="no human arm"):
        seed_intervals.intervals(tmp_path / "nohuman")
    with pytest.raises(SystemExit, match="no per_query.json"):
        seed_intervals.intervals(tmp_path)
    with pytest.raises(SystemExit, match="LABEL=EVAL_DIR"):
        seed_intervals.main([str(tmp_path / "one"), "--tag", "x"])


def test_results_name_the_dir_never_a_local_path(tmp_path, monkeypatch):
    _write(tmp_path / "run", [0.8, 0.5], [0.6, 0.6])
    monkeypatch.setattr(seed_intervals, "ROOT", tmp_path / "project")
    (tmp_path / "project" / "benchmarks" / "results").mkdir(parents=True)
    assert seed_intervals.main([f"planted={tmp_path / 'run'}", "--tag", "t", "--bootstrap", "50"]) == 0
    written = (tmp_path / "project" / "benchmarks" / "results" / "seed_intervals-t.json").read_text()
    assert json.loads(written)["evals"] == {"planted": "run"} and str(tmp_path) not in written
    assert (tmp_path / "project" / "benchmarks" / "results" / "seed_intervals-t.md").read_text().startswith("| eval |")
