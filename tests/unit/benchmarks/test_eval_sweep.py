"""benchmarks/eval_sweep.py: the grid, and the selection half that never holds a test query."""

from __future__ import annotations

import pytest

from synthir.eval.human import split_queries
from synthir.io.beir import read_beir, write_beir

from tests.benchmark_scripts import load_benchmark

sweep = load_benchmark("eval_sweep")


def test_grid_is_the_typed_product():
    grid = sweep.parse_grid(["epochs=1,3", "lr=2e-5,1e-4", "config=pairs"])
    assert len(grid) == 4
    assert {"config": "pairs", "epochs": 3.0, "lr": 1e-4} in grid
    assert all(isinstance(p["epochs"], float) for p in grid)
    assert sweep.parse_grid(["anchor=0,10"]) == [{"anchor": 0.0}, {"anchor": 10.0}]
    with pytest.raises(SystemExit, match="KEY"):
        sweep.parse_grid(["momentum=0.9"])
    with pytest.raises(SystemExit, match="--grid: lr takes float values \\(got '2e-5x'\\)"):
        sweep.parse_grid(["lr=1e-4,2e-5x"])


def test_points_move_keys_together():
    points = sweep.parse_points(["batch=128,mini=32,lr=8e-5", "batch=16"])
    assert points == [{"batch": 128, "mini": 32, "lr": 8e-5}, {"batch": 16}]
    assert isinstance(points[0]["batch"], int) and isinstance(points[0]["lr"], float)
    with pytest.raises(SystemExit, match="KEY"):
        sweep.parse_points(["batch=64,momentum=0.9"])
    with pytest.raises(SystemExit, match="--points: batch takes int values"):
        sweep.parse_points(["batch=6.4"])


def test_selection_half_is_the_human_train_half(tmp_path):
    qids = [f"q{i}" for i in range(40)]
    write_beir(tmp_path / "dev", [{"_id": f"d{i}", "title": "", "text": f"doc {i}"} for i in range(40)],
               [{"_id": q, "text": f"question {q}", "lang": "fr"} for q in qids],
               {"test": [(q, f"d{i}", 1) for i, q in enumerate(qids)]})
    counts = sweep.selection_half(tmp_path / "dev", tmp_path / "sel")
    hs = split_queries(qids, 0.5, 0)
    sel = read_beir(tmp_path / "sel")
    assert set(sel.queries) == set(hs.train) and counts["queries"] == len(hs.train)
    assert not set(sel.qrels["test"]) & set(hs.test)  # no test query can steer the choice
    assert sel.query_langs == {q: "fr" for q in hs.train} and len(sel.corpus) == 40


def test_a_dir_that_is_not_a_dev_set_stops_with_one_line(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    proc = subprocess.run([sys.executable, str(root / "benchmarks" / "eval_sweep.py"), "--dataset", str(tmp_path),
                           "--devset", str(tmp_path / "nodev"), "--work", str(tmp_path / "w")],
                          capture_output=True, text=True, cwd=root, timeout=300)
    assert proc.returncode != 0
    assert proc.stderr.strip() == f"eval_sweep: {tmp_path / 'nodev'} is not a BEIR dir: corpus.jsonl is missing"
