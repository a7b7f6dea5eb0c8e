"""benchmarks/wiseft.py: base and fine-tuned weights averaged (WiSE-FT), scored per question."""

from __future__ import annotations

import pytest
import torch

from tests.benchmark_scripts import load_benchmark

wiseft = load_benchmark("wiseft")


def test_interpolate_mixes_float_tensors_and_keeps_integer_buffers():
    base = {"w": torch.tensor([0.0, 2.0]), "ids": torch.tensor([0, 1])}
    tuned = {"w": torch.tensor([4.0, 6.0]), "ids": torch.tensor([5, 6])}
    assert torch.equal(wiseft.interpolate(base, tuned, 0.0)["w"], base["w"])
    assert torch.equal(wiseft.interpolate(base, tuned, 1.0)["w"], tuned["w"])
    half = wiseft.interpolate(base, tuned, 0.25)
    assert torch.allclose(half["w"], torch.tensor([1.0, 3.0]))
    assert torch.equal(half["ids"], tuned["ids"])  # position ids are not averaged


def test_interpolate_refuses_different_models():
    with pytest.raises(SystemExit, match="differ in 1 tensors"):
        wiseft.interpolate({"w": torch.zeros(2)}, {"w": torch.zeros(2), "v": torch.zeros(1)}, 0.5)
    with pytest.raises(SystemExit, match="shape"):
        wiseft.interpolate({"w": torch.zeros(2)}, {"w": torch.zeros(3)}, 0.5)


def test_alphas_must_include_the_fine_tune():
    assert wiseft._alphas("1,0,0.5,0.5") == [0.0, 0.5, 1.0]
    for bad in ("0,0.5", "0,1.5,1", "a,1"):
        with pytest.raises(SystemExit, match="--alphas"):
            wiseft._alphas(bad)


def test_summaries_are_against_the_fine_tune_and_pool_per_run():
    scores = {0.0: {"a": 1.0, "b": 0.0}, 1.0: {"a": 0.5, "b": 0.5}}
    s = wiseft.summarise(scores, ["a", "b"], resamples=50)
    assert s["1.0"]["delta"]["mean"] == 0.0
    assert (s["0.0"]["synthetic"], s["0.0"]["base"]) == (0.5, 0.5)
    s = wiseft.summarise(scores, ["a"], resamples=50)
    assert s["0.0"]["delta"]["mean"] == pytest.approx(0.5)
    runs = [{"per_question": {"0.0": {"a": 1.0}, "1.0": {"a": 0.0}}},
            {"per_question": {"0.0": {"a": 0.0}, "1.0": {"a": 0.0}}}]  # same id in two dev sets: both kept
    p = wiseft.pool(runs, [0.0, 1.0], resamples=50)
    assert p["0.0"]["queries"] == 2 and p["0.0"]["delta"]["mean"] == pytest.approx(0.5)
    md = wiseft.table([], p, [0.0, 1.0])
    assert "| pooled: all unseen | 2 | 0.500 | 0.000 |" in md
