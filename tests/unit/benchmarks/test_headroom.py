"""benchmarks/headroom.py: the room above base, and the synthetic gain split into the questions
the base misses and the ones it already ranks first, each arm averaged over its runs."""

from __future__ import annotations

import pytest

from tests.benchmark_scripts import load_benchmark

headroom = load_benchmark("headroom")


def _runs(*scores):
    return [{"ndcg@10": dict(zip(["a", "b", "c", "d"], s))} for s in scores]


def test_headroom_splits_the_gain_between_base_misses_and_hits():
    pq = {"test_qids": ["a", "b", "c", "d"],
          "arms": {"base": _runs((1.0, 1.0, 0.5, 0.5)),
                   "synthetic": _runs((1.0, 0.6, 1.0, 0.5), (1.0, 0.8, 1.0, 1.0)),  # mean b 0.7, d 0.75
                   "human": _runs((1.0, 1.0, 0.5, 1.0))}}
    h = headroom.headroom(pq)
    assert h["base_ranks_first"] == 2 and h["headroom"] == 0.25
    assert h["synthetic_gain"] == pytest.approx((0 - 0.3 + 0.5 + 0.25) / 4, abs=1e-3)
    assert h["human_gain"] == 0.125 and h["human_share_of_headroom"] == 0.5
    assert h["synthetic_gain_on_base_misses"] == 0.375  # c +0.5, d +0.25
    assert h["synthetic_change_on_base_hits"] == -0.15  # a 0, b -0.3
    assert h["share_needed_for_0.03"] == 0.12


def test_the_split_counts_and_its_two_shares_add_up_to_the_gain():
    pq = {"test_qids": ["a", "b", "c", "d"],
          "arms": {"base": _runs((1.0, 1.0, 0.5, 0.5)),
                   "synthetic": _runs((1.0, 0.6, 1.0, 0.4), (1.0, 0.8, 1.0, 0.4)),  # b -0.3, c +0.5, d -0.1
                   "human": _runs((1.0, 1.0, 0.5, 1.0))}}
    h = headroom.headroom(pq)
    assert (h["base_hits_lost"], h["base_misses_gained"], h["base_misses_lost"]) == (1, 1, 1)
    assert h["gain_from_base_hits"] == pytest.approx(-0.3 / 4, abs=1e-3)
    assert h["gain_from_base_misses"] == pytest.approx(0.4 / 4, abs=1e-3)
    assert h["gain_from_base_hits"] + h["gain_from_base_misses"] == pytest.approx(h["synthetic_gain"], abs=2e-3)
