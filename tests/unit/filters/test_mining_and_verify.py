"""Mining control flow on a FAISS index over hand-made vectors (scores are known exactly),
and verification of generated documents with a scripted scorer."""

import random

import numpy as np
import pytest

from data_schemas.config import MiningConfig, VerifyConfig
from data_schemas.records import DocumentRecord, Provenance, QueryRecord
from synthir.filters.mining import mine_negatives
from synthir.filters.verify import verify_documents
from synthir.index import CorpusIndex

PROV = Provenance(generator="g", template="t", template_sha256="0", examples_sha256="0", model="m",
                  backend="b", sampling={}, seed=0)
# 2-d unit vectors: query along x; passage i has cosine SCORES[i] with it
IDS = ["pos", "dup", "c1", "c2", "c3", "c4", "c5"]
SCORES = [0.90, 0.95, 0.89, 0.84, 0.70, 0.60, 0.50]
TEXTS = {"pos": "The Nile is the longest river in Africa.", "dup": "The Nile is the longest river in Africa!",
         "c1": "The Congo river.", "c2": "The Niger river.", "c3": "Lake Victoria.", "c4": "Sahara.",
         "c5": "Kilimanjaro."}


class AxisEmbedder:
    name, dim = "axis", 2

    def encode(self, texts, kind):
        return np.tile(np.array([[1.0, 0.0]], dtype=np.float32), (len(texts), 1))


@pytest.fixture
def setup(tmp_path):
    emb = np.array([[s, np.sqrt(1 - s * s)] for s in SCORES], dtype=np.float32)
    path = tmp_path / "e.npy"
    np.save(path, emb)
    index = CorpusIndex.build(path, IDS)
    rec = QueryRecord(id="q", query="longest river in africa", passage_id="pos", query_lang="en",
                      passage_lang="en", cross_lingual=False, provenance=PROV)
    return index, emb, rec


def mine(setup, **cfg):
    index, emb, rec = setup
    return mine_negatives([rec], index, AxisEmbedder(), emb, {pid: i for i, pid in enumerate(IDS)},
                          lambda ids: {i: TEXTS[i] for i in ids}, MiningConfig(**cfg), random.Random(0))


def test_positive_and_near_duplicate_masked_relative_margin_applied(setup):
    negs, stats = mine(setup, num_negatives=2, relative_margin=0.05)
    # dup (0.95, near-copy text) and pos are masked; c1 (0.89 > 0.90*0.95) is within the margin
    assert [(n.negative_id, n.rank) for n in negs] == [("c2", 4), ("c3", 5)]
    assert negs[0].positive_score == pytest.approx(0.90, abs=1e-5) and negs[0].score == pytest.approx(0.84, abs=1e-5)
    assert stats["skipped_positive"] == 1 and stats["skipped_near_duplicate_of_positive"] == 1
    assert stats["skipped_relative_margin"] == 1 and stats["mined"] == 2


def test_absolute_margin_range_and_max_score(setup):
    negs, stats = mine(setup, num_negatives=5, relative_margin=None, absolute_margin=0.2)
    assert [n.negative_id for n in negs] == ["c3", "c4", "c5"]  # <= 0.70
    negs, _ = mine(setup, num_negatives=5, relative_margin=None, range_min=5, range_max=6)
    assert [n.negative_id for n in negs] == ["c4", "c5"]  # ranks 6..7 only
    negs, stats = mine(setup, num_negatives=5, relative_margin=None, max_score=0.65)
    assert [n.negative_id for n in negs] == ["c4", "c5"] and stats["skipped_max_score"] == 3
    assert stats["queries_short"] == 1


def test_random_sampling_is_seeded(setup):
    a, _ = mine(setup, num_negatives=2, relative_margin=None, sampling="random")
    b, _ = mine(setup, num_negatives=2, relative_margin=None, sampling="random")
    assert [n.negative_id for n in a] == [n.negative_id for n in b]
    assert {n.negative_id for n in a} <= {"c1", "c2", "c3", "c4", "c5"}


def doc(i, kind, text, level=None):
    return DocumentRecord(id=f"d{i}", kind=kind, text=text, query_id="q", query="Q", passage_id="p",
                          lang="en", level=level, variant="query" if kind == "negative" else None,
                          provenance=PROV)


def scripted(scores):
    return lambda pairs: np.array([scores[t] for _, t in pairs], dtype=np.float32)


def test_verify_negatives_margin_and_graded_order():
    docs = [doc(1, "negative", "close"), doc(2, "negative", "far"), doc(3, "hyde", "hyp"),
            doc(4, "graded", "g3", 3), doc(5, "graded", "g2", 2), doc(6, "graded", "g0", 0)]
    base = {"POS": 0.8, "close": 0.78, "far": 0.5, "hyp": 0.9, "g3": 0.9, "g2": 0.7, "g0": 0.1}
    kept, rejected, stats = verify_documents(docs, {"p": "POS"}, {"embedder": scripted(base)}, VerifyConfig())
    assert [d.id for d in kept] == ["d2", "d3", "d4", "d5", "d6"]
    assert [(r.item_id, r.reason, r.stage) for r in rejected] == [("d1", "negative_too_close", "verify")]
    # a second scorer (cross-encoder) that disagrees on the graded order rejects the whole set
    ce = dict(base, g2=0.95)
    kept, rejected, _ = verify_documents(docs, {"p": "POS"}, {"embedder": scripted(base),
                                                              "cross_encoder": scripted(ce)}, VerifyConfig())
    assert {r.item_id for r in rejected if r.reason == "graded_order_violation"} == {"d4", "d5", "d6"}
    assert "cross_encoder scores not ordered" in next(r.detail for r in rejected if r.item_id == "d4")
    # a minimum gap makes a close pair a violation too
    _, rejected, _ = verify_documents(docs, {"p": "POS"}, {"embedder": scripted(base)},
                                      VerifyConfig(graded_min_gap=0.25))
    assert {r.item_id for r in rejected if r.reason == "graded_order_violation"} == {"d4", "d5", "d6"}


def test_cluster_duplicates_and_sibling_chunks_are_never_negatives(setup):
    index, emb, rec = setup
    clusters = {"pos": "pos", "c2": "pos"}  # c2 is a duplicate of the positive (text aside)
    docs = {"pos": "doc", "c3": "doc"}      # c3 is another chunk of the positive's document

    def same(a, b):
        if clusters.get(a) and clusters.get(a) == clusters.get(b):
            return "duplicate"
        return "document" if docs.get(a) and docs.get(a) == docs.get(b) else None

    negs, stats = mine_negatives([rec], index, AxisEmbedder(), emb, {pid: i for i, pid in enumerate(IDS)},
                                 lambda ids: {i: TEXTS[i] for i in ids},
                                 MiningConfig(num_negatives=2, relative_margin=0.05), random.Random(0), same)
    assert [n.negative_id for n in negs] == ["c4", "c5"]
    assert stats["skipped_duplicate_of_positive"] == 1 and stats["skipped_same_document_as_positive"] == 1
