"""benchmarks/margins.py: round-trip margins of training pairs (pure parts and one-line errors)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.benchmark_scripts import load_benchmark

margins = load_benchmark("margins")


def test_margin_is_the_source_minus_the_best_other_passage():
    scores = np.array([[0.9, 0.7, 0.8], [0.5, 0.6, 0.1]])
    assert margins.margins(scores, [0, 0]) == pytest.approx([0.1, -0.1])


def test_summary_shares_below_each_cut():
    s = margins.summary([-0.1, 0.005, 0.015, 0.04])
    assert s["pairs"] == 4 and s["median"] == pytest.approx(0.01)
    assert s["below"]["0.0"] == 0.25 and s["below"]["0.02"] == 0.75 and s["below"]["0.05"] == 1.0


def test_attracting_pages_are_the_wrong_first_pages_of_worse_questions():
    run = {"devset": "x-de", "worse": {"questions": [
        {"tuned_first": "de:a/1", "tuned_first_relevant": False},
        {"tuned_first": "de:a/2", "tuned_first_relevant": True}]}}
    assert margins.attracting(run) == {"de:a/1"}
    with pytest.raises(SystemExit, match="no worse list"):
        margins.attracting({"devset": "x-de"})


def test_bad_inputs_are_one_line(tmp_path):
    with pytest.raises(SystemExit, match="missing"):
        margins.main([str(tmp_path / "none.json"), str(tmp_path), "--tag", "t"])
    m = tmp_path / "m.json"
    m.write_text(json.dumps({"runs": [{}, {}]}))
    with pytest.raises(SystemExit, match="pass one EVAL_DIR per run"):
        margins.main([str(m), str(tmp_path), "--tag", "t"])
