"""The human split: deterministic, disjoint, no test query (or its text) trained on."""

from __future__ import annotations

import pytest

from synthir.errors import ConfigError, InputError
from synthir.eval.human import HumanSplit, check_disjoint, human_pairs, in_human_train, split_queries
from synthir.io.beir import BeirData

QIDS = [f"q{i}" for i in range(1000)]


def test_split_is_deterministic_disjoint_and_sized():
    a = split_queries(QIDS, 0.5, seed=0)
    assert a == split_queries(QIDS, 0.5, seed=0)
    assert not set(a.train) & set(a.test) and set(a.train) | set(a.test) == set(QIDS)
    assert 430 < len(a.train) < 570  # ~50%
    # stable per query: independent of order and of the other queries
    assert split_queries(list(reversed(QIDS)), 0.5, seed=0).train == list(reversed(a.train))
    sub = split_queries(QIDS[:100], 0.5, seed=0)
    assert sub.train == [q for q in a.train if q in set(QIDS[:100])]
    # another seed, another split; a bigger fraction, a superset
    assert split_queries(QIDS, 0.5, seed=1).train != a.train
    assert set(a.train) <= set(split_queries(QIDS, 0.8, seed=0).train)
    assert in_human_train("q1", 0.5, 0) == ("q1" in a.train)


def test_bad_fractions_and_empty_parts():
    for bad in (0.0, 1.0, -0.1, 1.5):
        with pytest.raises(ConfigError, match="--human-split"):
            split_queries(QIDS, bad)
    with pytest.raises(InputError, match="test"):
        split_queries(["only"], 0.999999)  # one query cannot be split


def test_check_disjoint_raises_on_a_leak():
    check_disjoint(["a", "b"], ["c"])
    with pytest.raises(AssertionError, match="c"):
        check_disjoint(["a", "c"], ["c", "d"])


DATA = BeirData(
    corpus={"d1": {"title": "T1", "text": "one"}, "d2": {"title": "", "text": "two"},
            "d3": {"title": "", "text": "x"}},
    queries={"q1": "first query", "q2": "second query", "q3": "third", "q4": "  First   QUERY "},
    qrels={"test": {"q1": {"d1": 1, "d3": 0}, "q2": {"d2": 2, "missing": 1}, "q3": {"d3": 1}, "q4": {"d1": 1}}})


def test_human_pairs_take_train_queries_judged_documents_only():
    rows, dropped = human_pairs(DATA, "test", HumanSplit(train=["q1", "q2"], test=["q3"]))
    assert dropped == 0
    assert rows == [{"query_id": "q1", "anchor": "first query", "positive": "T1. one"},  # title as retrieved
                    {"query_id": "q2", "anchor": "second query", "positive": "two"}]  # grade 0, unknown doc: out


def test_a_train_query_with_the_text_of_a_test_query_is_dropped():
    rows, dropped = human_pairs(DATA, "test", HumanSplit(train=["q1", "q2"], test=["q3", "q4"]))
    assert dropped == 1 and [r["query_id"] for r in rows] == ["q2"]
    with pytest.raises(InputError, match="no judged document"):
        human_pairs(DATA, "test", HumanSplit(train=["q1"], test=["q4"]))
