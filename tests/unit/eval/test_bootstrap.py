"""Paired bootstrap CIs on per-query deltas whose truth is known, and the Multi-Bootstrap that
resamples the training seeds too."""

from __future__ import annotations

import numpy as np
import pytest

from synthir.errors import ConfigError
from synthir.eval.bootstrap import mean_over_seeds, multi_bootstrap, paired_bootstrap


def test_constant_delta_gives_a_zero_width_interval():
    ci = paired_bootstrap([0.1] * 50, resamples=1000, seed=0)
    assert ci["ci_low"] == pytest.approx(0.1) and ci["ci_high"] == pytest.approx(0.1)
    assert ci["mean"] == pytest.approx(0.1) and ci["share_above_0"] == 1.0
    assert ci["n_queries"] == 50 and ci["resamples"] == 1000 and ci["level"] == 0.95
    zero = paired_bootstrap([0.0] * 20)
    assert zero["ci_low"] == zero["ci_high"] == 0.0 and zero["share_above_0"] == 0.0


def test_random_signs_contain_zero_and_a_real_gain_does_not():
    rng = np.random.default_rng(7)
    noise = rng.choice([-0.2, 0.2], size=400)  # symmetric: no true difference
    ci = paired_bootstrap(noise, resamples=2000, seed=1)
    assert ci["ci_low"] < 0 < ci["ci_high"]
    assert 0.05 < ci["share_above_0"] < 0.95
    gain = paired_bootstrap(noise + 0.1, resamples=2000, seed=1)  # +0.1 on every query
    assert gain["ci_low"] > 0 and gain["share_above_0"] == 1.0
    # same resampled indices: the interval moves by exactly the shift
    assert gain["ci_low"] == pytest.approx(ci["ci_low"] + 0.1, abs=1e-4)
    # a 95% interval is inside a 99% one
    wide = paired_bootstrap(noise, resamples=2000, seed=1, level=0.99)
    assert wide["ci_low"] <= ci["ci_low"] and wide["ci_high"] >= ci["ci_high"]


def test_seeded_and_deterministic():
    d = np.random.default_rng(3).normal(0.02, 0.1, size=123)
    assert paired_bootstrap(d, seed=5) == paired_bootstrap(d, seed=5)
    assert paired_bootstrap(d, seed=5) != paired_bootstrap(d, seed=6)
    # chunking of large resample counts does not change the mean estimate's interval much
    many = paired_bootstrap(d, resamples=20000, seed=5)
    assert many["ci_low"] < many["mean"] < many["ci_high"]


def test_bad_input():
    with pytest.raises(ValueError):
        paired_bootstrap([])
    with pytest.raises(ConfigError):
        paired_bootstrap([0.1], resamples=0)
    with pytest.raises(ConfigError):
        paired_bootstrap([0.1], level=1.0)


def test_mean_over_seeds_averages_per_query_and_missing_is_zero():
    runs = [{"a": 0.2, "b": 1.0}, {"a": 0.4}]
    assert mean_over_seeds(runs, ["a", "b"]).tolist() == pytest.approx([0.3, 0.5])
    with pytest.raises(ValueError):
        mean_over_seeds([], ["a"])


def test_multi_bootstrap_with_one_run_each_is_the_paired_bootstrap():
    rng = np.random.default_rng(11)
    a, b = rng.random((1, 57)), rng.random((1, 57))
    m, p = multi_bootstrap(a, b, resamples=700, seed=4), paired_bootstrap(a[0] - b[0], resamples=700, seed=4)
    assert {k: m[k] for k in p} == p and (m["seeds_a"], m["seeds_b"]) == (1, 1)


def test_multi_bootstrap_sees_the_seed_spread_that_averaging_hides():
    # two seeds of A: one lifts every query to 0.9, one leaves it at 0.5; B is 0.6 everywhere.
    # Averaged over seeds A is 0.7 on every query: the query bootstrap says +0.1 for certain.
    a = np.array([[0.9] * 40, [0.5] * 40])
    b = np.full((1, 40), 0.6)
    flat = paired_bootstrap(a.mean(axis=0) - b[0], resamples=2000, seed=0)
    assert flat["ci_low"] == pytest.approx(0.1) and flat["ci_high"] == pytest.approx(0.1)
    # resampling the seeds: both draws of the lucky seed (+0.3), both of the other (-0.1), or one each (+0.1)
    m = multi_bootstrap(a, b, resamples=2000, seed=0)
    assert m["mean"] == pytest.approx(0.1) and m["ci_low"] == pytest.approx(-0.1) and m["ci_high"] == pytest.approx(0.3)
    assert 0.7 < m["share_above_0"] < 0.8 and (m["seeds_a"], m["seeds_b"]) == (2, 1)
    # seeds that agree add nothing: the interval is the query bootstrap's
    same = multi_bootstrap(np.array([[0.7] * 40, [0.7] * 40]), b, resamples=500, seed=0)
    assert same["ci_low"] == pytest.approx(0.1) and same["ci_high"] == pytest.approx(0.1)
    assert multi_bootstrap(a, b, seed=3) == multi_bootstrap(a, b, seed=3)


def test_multi_bootstrap_bad_input():
    with pytest.raises(ValueError):
        multi_bootstrap([[0.1, 0.2]], [[0.1]])  # other queries
    with pytest.raises(ValueError):
        multi_bootstrap([0.1, 0.2], [[0.1, 0.2]])  # not [runs x queries]
    with pytest.raises(ConfigError):
        multi_bootstrap([[0.1]], [[0.2]], resamples=0)
    with pytest.raises(ConfigError):
        multi_bootstrap([[0.1]], [[0.2]], level=0.0)
