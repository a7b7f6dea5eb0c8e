"""benchmarks/pooled.py: questions of several eval dirs pooled, each averaged over its seeds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from synthir.eval.versus import per_query_record

from tests.benchmark_scripts import load_benchmark

pooled = load_benchmark("pooled")


def _write(d: Path, qids, base, synthetic_runs, human_runs):
    def run(vals):
        return {"ndcg@10": dict(zip(qids, vals))}
    rec = per_query_record(f"/x/{d.name}", "test", qids, list(range(len(synthetic_runs))),
                           {"base": [run(base)], "synthetic": [run(v) for v in synthetic_runs],
                            "human": [run(v) for v in human_runs]})
    d.mkdir()
    (d / "per_query.json").write_text(json.dumps(rec))


def test_pooled_means_and_deltas(tmp_path):
    _write(tmp_path / "a", ["q1", "q2"], [0.0, 0.5], [[1.0, 1.0], [0.0, 1.0]], [[0.5, 0.5]])
    _write(tmp_path / "b", ["q1", "q2", "q3"], [0.0, 0.0, 0.0], [[0.3, 0.3, 0.3]], [[0.6, 0.0, 0.0]])
    r = pooled.pooled([tmp_path / "a", tmp_path / "b"], resamples=200)
    assert r["queries"] == 5  # q1, q2 of each set are different questions
    # a: synthetic per question = mean of its two seeds (0.5, 1.0); b: 0.3 each
    assert r["means"]["synthetic"] == pytest.approx((0.5 + 1.0 + 0.9) / 5, abs=1e-4)
    assert r["means"]["human"] == pytest.approx((0.5 + 0.5 + 0.6) / 5, abs=1e-4)
    assert r["deltas"]["synthetic-human"]["mean"] == pytest.approx(
        r["means"]["synthetic"] - r["means"]["human"], abs=2e-4)
    assert [s["runs"]["synthetic"] for s in r["sets"]] == [2, 1]
    assert "| **pooled** | 5 |" in pooled.markdown(r)


def test_a_dir_without_human_arm_stops(tmp_path):
    d = tmp_path / "nohuman"
    d.mkdir()
    rec = per_query_record("/x", "test", ["q1"], [0], {"base": [{"ndcg@10": {"q1": 0.1}}],
                                                       "synthetic": [{"ndcg@10": {"q1": 0.2}}]})
    (d / "per_query.json").write_text(json.dumps(rec))
    with pytest.raises(SystemExit, match="no human arm"):
        pooled.pooled([d])
