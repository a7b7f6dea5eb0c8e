"""benchmarks/llm_teacher.py: the judge's margins replace the published `distill` labels of the
same rows (and only those), per (query, positive) its hardest negatives first; `--student`
chooses the student the margins train."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.benchmark_scripts import load_benchmark

teacher = load_benchmark("llm_teacher")


def _dataset(tmp_path):
    root = tmp_path / "ds"
    (root / "data" / "distill").mkdir(parents=True)
    (root / "data" / "pairs").mkdir(parents=True)
    pd.DataFrame({"query": ["q1", "q1", "q2"], "positive": ["p1", "p1", "p2"], "negative": ["n1", "n2", "n1"],
                  "label": np.array([0.3, 0.1, -0.2], dtype="float32")}
                 ).to_parquet(root / "data" / "distill" / "train-00000.parquet", index=False)
    (root / "data" / "pairs" / "keep.txt").write_text("untouched")
    return root


def test_judge_margins_replace_the_labels_of_the_same_rows(tmp_path):
    ds = _dataset(tmp_path)
    assert len(teacher.distill_frame(ds)) == 3
    first = teacher.distill_frame(ds, per_pair=1)
    assert list(zip(first["query"], first["negative"])) == [("q1", "n1"), ("q2", "n1")]

    scores = {("q1", "p1"): 0.9, ("q1", "n1"): 0.4, ("q1", "n2"): 0.95, ("q2", "p2"): 0.6, ("q2", "n1"): 0.1}
    asked = []

    def judge(pairs):
        asked.extend(pairs)
        return np.array([scores[p] for p in pairs])

    df, stats = teacher.judge_distill(judge, ds)
    assert len(asked) == len(set(asked)) == 5  # each (query, passage) judged once
    assert df["llm_label"].round(4).tolist() == [0.5, -0.05, 0.5]
    assert stats["llm_pos_beats_neg"] == pytest.approx(2 / 3, abs=1e-4)
    assert stats["e5_pos_beats_neg"] == pytest.approx(2 / 3, abs=1e-4)  # 0.3, 0.1 > 0; -0.2 not

    copy = teacher.relabelled_copy(ds, df, tmp_path / "copy")
    out = pd.read_parquet(next((copy / "data" / "distill").glob("*.parquet")))
    assert list(out.columns) == ["query", "positive", "negative", "label"]
    assert out["label"].tolist() == pytest.approx([0.5, -0.05, 0.5], abs=1e-6)  # the dtype stays float32
    assert (copy / "data" / "pairs" / "keep.txt").read_text() == "untouched"
    assert pd.read_parquet(next((ds / "data" / "distill").glob("*.parquet")))["label"].tolist() == pytest.approx([0.3, 0.1, -0.2])


def test_the_student_is_one_of_the_downstream_recipes(capsys):
    with pytest.raises(SystemExit):
        teacher.main(["--dataset", "x", "--devset", "y", "--student", "bert", "--work", "w", "--tag", "t"])
    assert "invalid choice: 'bert'" in capsys.readouterr().err


def test_a_scaled_rerun_multiplies_the_judged_margins_of_the_same_rows(tmp_path):
    ds = _dataset(tmp_path)
    (ds / "README.md").write_text("card")
    scaled = teacher.scaled_copy(ds, tmp_path / "x3", 3.0)
    out = pd.read_parquet(next((scaled / "data" / "distill").glob("*.parquet")))
    assert list(out.columns) == ["query", "positive", "negative", "label"]
    assert out["label"].tolist() == pytest.approx([0.9, 0.3, -0.6], abs=1e-6)
    assert list(out["negative"]) == ["n1", "n2", "n1"]
    assert pd.read_parquet(next((ds / "data" / "distill").glob("*.parquet")))["label"].tolist() == pytest.approx([0.3, 0.1, -0.2])
    with pytest.raises(SystemExit, match="no relabelled dataset to scale"):
        teacher.scaled_copy(tmp_path / "missing", tmp_path / "x4", 3.0)


def test_a_recipe_override_reaches_the_student_recipe():
    import sys

    with pytest.raises(SystemExit, match="--reuse-copy: no earlier results"):
        teacher.main(["--dataset", "x", "--devset", "y", "--student", "e5-small", "--work", "w",
                      "--tag", "never-run-tag", "--reuse-copy", "--set", "e5-small.precision=bf16"])
    recipes = sys.modules["downstream"].STUDENT_RECIPES
    try:
        assert recipes["e5-small"]["precision"] == "bf16"
    finally:
        recipes["e5-small"]["precision"] = "fp32"
