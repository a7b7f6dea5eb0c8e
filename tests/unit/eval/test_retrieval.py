"""Eval scoring on hand-made runs with known metric values (ir-measures), the mono / cross
grouping, and retrieval control flow with a scripted encoder."""

from __future__ import annotations

import math

import numpy as np
import pytest

from synthir.eval.retrieval import query_groups, retrieve, score
from synthir.io.beir import BeirData

DATA = BeirData(
    corpus={"d1": {"title": "", "text": "alpha", "lang": "en"}, "d2": {"title": "", "text": "beta", "lang": "fr"},
            "d3": {"title": "T", "text": "gamma", "lang": "en"}},
    queries={"q1": "alpha?", "q2": "beta?", "q3": "gamma?"},
    qrels={"test": {"q1": {"d1": 1}, "q2": {"d2": 1}, "q3": {"d3": 1}, "ghost": {"d1": 1}}})


def test_known_values_and_missing_queries_count_zero():
    run = {"q1": {"d2": 0.9, "d1": 0.8}, "q2": {"d2": 0.7, "d1": 0.1}}  # q3 retrieved nothing
    m = score(run, DATA, "test", ["q1"])
    assert m["ndcg@10"] == pytest.approx(1 / math.log2(3), abs=1e-4)
    assert m["mrr@10"] == 0.5 and m["recall@100"] == 1.0
    m = score(run, DATA, "test", ["q1", "q2", "q3"])
    assert m["mrr@10"] == pytest.approx((0.5 + 1 + 0) / 3, abs=1e-4)
    assert m["recall@100"] == pytest.approx(2 / 3, abs=1e-4)


def test_groups_mono_cross_and_language():
    groups = query_groups(DATA, "test", {"q1": "en", "q2": "en", "q3": "en"})
    assert groups["all"] == ["q1", "q2", "q3"]  # "ghost" has no query text
    assert groups["mono"] == ["q1", "q3"] and groups["cross"] == ["q2"] and groups["lang:en"] == ["q1", "q2", "q3"]
    assert set(query_groups(DATA, "test", {})) == {"all"}  # no languages: no breakdown


class ScriptedEncoder:
    """Embeds a text by which of alpha / beta / gamma it contains (one-hot)."""

    def encode(self, texts, **kwargs):
        vecs = np.array([[w in t for w in ("alpha", "beta", "gamma")] for t in texts], dtype=np.float32)
        return vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-9)


def test_retrieve_ranks_by_cosine_and_uses_titles():
    run = retrieve(ScriptedEncoder(), DATA, "test", k=2)
    assert set(run) == {"q1", "q2", "q3"}
    assert max(run["q1"], key=run["q1"].get) == "d1" and len(run["q1"]) == 2
    assert score(run, DATA, "test", ["q1", "q2", "q3"])["mrr@10"] == 1.0
