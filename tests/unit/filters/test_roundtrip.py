"""Round trip with the real multilingual USE embedder and a real FAISS index."""

import pyarrow as pa
import pyarrow.parquet as pq

from data_schemas.records import Provenance, QueryRecord
from synthir.filters.roundtrip import roundtrip_filter, source_ranks
from synthir.index import CorpusIndex, embed_corpus

CORPUS = {
    "eiffel": "The Eiffel Tower is a wrought-iron lattice tower on the Champ de Mars in Paris, France.",
    "nile": "The Nile is a major north-flowing river in northeastern Africa, flowing into the Mediterranean.",
    "bach": "Johann Sebastian Bach was a German composer and musician of the late Baroque period.",
    "python": "Python is a high-level, general-purpose programming language emphasising code readability.",
    "everest": "Mount Everest is Earth's highest mountain above sea level, located in the Himalayas.",
    "cheese": "Camembert is a moist, soft, creamy, surface-ripened cow's milk cheese from Normandy.",
}
PROV = Provenance(generator="t", template="t", template_sha256="0", examples_sha256="0", model="m",
                  backend="b", sampling={}, seed=0)


def rec(qid, query, pid):
    return QueryRecord(id=qid, query=query, passage_id=pid, query_lang="en", passage_lang="en",
                       cross_lingual=False, provenance=PROV)


def test_kept_iff_source_in_top_k(tmp_path, use_embedder):
    path = tmp_path / "corpus.parquet"
    pq.write_table(pa.Table.from_pylist([{"id": k, "title": "", "text": v, "lang": "en"}
                                         for k, v in CORPUS.items()]), path)
    emb = embed_corpus(path, use_embedder, tmp_path / "cache", fingerprint="f1")
    index = CorpusIndex.build(emb, list(CORPUS))
    records = [
        rec("q1", "tallest mountain in the world", "everest"),      # retrieves its source at rank 1
        rec("q2", "famous iron tower in Paris", "eiffel"),          # rank 1
        rec("q3", "tallest mountain in the world", "cheese"),       # written for cheese: source far down
    ]
    kept, rejected, ranks = roundtrip_filter(records, index, use_embedder, top_k=1)
    assert [r for r in ranks if r is not None and r <= 1] == [r.roundtrip_rank for r in kept]
    assert [r.id for r in kept] == ["q1", "q2"]
    assert all(r.roundtrip_rank == 1 and r.roundtrip_score > 0 for r in kept)
    assert [(r.item_id, r.stage, r.reason) for r in rejected] == [("q3", "roundtrip", "source_not_in_top_k")]
    assert "top-1 everest" in rejected[0].detail

    # the filter stage's search: the same ranks, and the source's own score
    found = source_ranks(records, index, use_embedder, depth=len(CORPUS))
    assert [r for r, _ in found] == ranks
    assert found[0][1] == kept[0].roundtrip_score and found[2][1] < found[0][1]
    assert source_ranks(records[2:], index, use_embedder, depth=1) == [(None, 0.0)]

    # with K = corpus size every source is in the top-K
    kept_all, rejected_all, _ = roundtrip_filter(records, index, use_embedder, top_k=len(CORPUS))
    assert len(kept_all) == 3 and not rejected_all
    assert kept_all[2].roundtrip_rank > 1

    # the corpus embeddings are cached by (fingerprint, embedder)
    mtime = emb.stat().st_mtime_ns
    assert embed_corpus(path, use_embedder, tmp_path / "cache", fingerprint="f1") == emb
    assert emb.stat().st_mtime_ns == mtime


class FixedIndex:
    """Returns the same ranking for every query (control flow of the hit rule)."""

    def __init__(self, ids):
        self.ids = ids

    def search(self, vecs, k):
        import numpy as np

        return np.tile(np.linspace(0.9, 0.1, len(self.ids), dtype=np.float32), (len(vecs), 1))[:, :k], \
            [self.ids[:k] for _ in range(len(vecs))]


class NullEmbedder:
    name, dim = "null", 2

    def encode(self, texts, kind):
        import numpy as np

        return np.zeros((len(texts), 2), dtype=np.float32)


def test_a_duplicate_or_sibling_that_outranks_the_source_is_a_hit():
    from synthir.filters.roundtrip import first_hit

    index = FixedIndex(["dup", "sib", "src", "x"])

    def same(a, b):
        return {"dup": "duplicate", "sib": "document"}.get(b) if a == "src" else None

    records = [rec("q", "query", "src")]
    kept, rejected, ranks = roundtrip_filter(records, index, NullEmbedder(), top_k=1, same=same)
    assert not rejected and ranks == [1]
    assert (kept[0].roundtrip_rank, kept[0].roundtrip_match, kept[0].roundtrip_hit) == (1, "duplicate", "dup")
    # without the equivalence the source is at rank 3: dropped at top-1
    kept, rejected, ranks = roundtrip_filter(records, index, NullEmbedder(), top_k=1)
    assert not kept and ranks == [3] and rejected[0].reason == "source_not_in_top_k"
    assert first_hit("src", ["sib", "src"], lambda a, b: "document" if b == "sib" else None) == (1, "sib", "document")
    assert first_hit("src", ["x", "src"], same) == (2, "src", "passage")
    assert first_hit("src", ["x"], same) is None


def test_select_per_passage_keeps_the_best_ranked_per_passage_method_and_language():
    from data_schemas.records import Provenance, QueryRecord
    from synthir.filters.roundtrip import select_per_passage

    prov = Provenance(generator="promptagator", template="t", template_sha256="x", examples_sha256="y",
                      model="m", backend="b", sampling={}, seed=0)

    def rec(i, pid, lang, rank, score):
        return QueryRecord(id=f"q{i}", query=f"query {i}", passage_id=pid, query_lang=lang, passage_lang="en",
                           cross_lingual=lang != "en", provenance=prov, method="promptagator",
                           roundtrip_rank=rank, roundtrip_score=score)
    kept = [rec(1, "a", "en", 2, 0.9), rec(2, "a", "en", 1, 0.5), rec(3, "a", "en", 1, 0.7),
            rec(4, "a", "fr", 3, 0.4), rec(5, "b", "en", 1, 0.8)]
    assert select_per_passage(kept, None) == (kept, [])
    out, rejected = select_per_passage(kept, 1)
    assert [r.id for r in out] == ["q3", "q4", "q5"]  # rank first, then score; input order kept
    assert sorted(r.item_id for r in rejected) == ["q1", "q2"]
    assert {(r.stage, r.reason) for r in rejected} == {("roundtrip", "not_selected")}
    assert [r.id for r in select_per_passage(kept, 2)[0]] == ["q2", "q3", "q4", "q5"]
