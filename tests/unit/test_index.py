"""FAISS index options on real FAISS: flat is exact; IVF and HNSW find (nearly) the same
neighbours on clustered data, and say what they are."""

import numpy as np
import pytest

from synthir.index import CorpusIndex


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(20, 32))
    x = centers[rng.integers(0, 20, 3000)] + 0.3 * rng.normal(size=(3000, 32))
    x = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    path = tmp_path_factory.mktemp("idx") / "e.npy"
    np.save(path, x)
    return path, x, [f"p{i}" for i in range(len(x))]


def test_flat_is_exact(data):
    path, x, ids = data
    idx = CorpusIndex.build(path, ids, chunk_rows=1000)
    scores, got = idx.search(x[:5], 3)
    assert [g[0] for g in got] == ids[:5] and np.allclose(scores[:, 0], 1.0, atol=1e-5)
    assert idx.description == "faiss.IndexFlatIP (exact)"


@pytest.mark.parametrize("kind", ["ivf", "hnsw"])
def test_approximate_indexes_recall(data, kind):
    path, x, ids = data
    flat = CorpusIndex.build(path, ids)
    approx = CorpusIndex.build(path, ids, kind=kind, nprobe=8, train_rows=2000)
    queries = x[::30] + 0.05
    _, exact = flat.search(queries, 10)
    _, found = approx.search(queries, 10)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(exact, found)])
    assert recall >= 0.9
    assert approx.kind == kind and approx.description.startswith(
        {"ivf": "faiss.IndexIVFFlat (nlist=", "hnsw": "faiss.IndexHNSWFlat (M=32"}[kind])


def test_unknown_kind_and_size_mismatch(data):
    path, _, ids = data
    with pytest.raises(ValueError, match="unknown index kind"):
        CorpusIndex.build(path, ids, kind="lsh")
    with pytest.raises(ValueError, match="embeddings for"):
        CorpusIndex.build(path, ids[:10])
