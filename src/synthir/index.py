"""Corpus embeddings (streamed, cached on disk) and a FAISS inner-product index over them.

The cache key is (corpus fingerprint, embedder name): a corpus is embedded once per embedder,
whatever run uses it. Embeddings are written chunk by chunk to a .npy memmap, so the corpus
texts are never all in RAM.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from synthir.embed.base import Embedder
from synthir.ids import content_id

log = logging.getLogger(__name__)


def passage_text(title: str, text: str) -> str:
    """The text embedded for a passage: `title. text` when there is a title."""
    return f"{title}. {text}" if title else text


def embed_corpus(corpus_path: Path, embedder: Embedder, cache_dir: Path, fingerprint: str,
                 chunk_rows: int = 2048, progress: Callable[[int], None] | None = None) -> Path:
    """Embed every passage of a normalised corpus Parquet (id, title, text, lang), in order.

    Output: path of a float32 .npy [n_passages, dim], reused when already cached.
    """
    key = content_id(fingerprint, embedder.name, "title. text")
    out = cache_dir / f"{key}.npy"
    pf = pq.ParquetFile(corpus_path)
    n = pf.metadata.num_rows
    if out.exists():
        arr = np.load(out, mmap_mode="r")
        if arr.shape == (n, embedder.dim):
            if progress:
                progress(n)
            return out
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    mm = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=(n, embedder.dim))
    row = 0
    try:
        for batch in pf.iter_batches(batch_size=chunk_rows, columns=["title", "text"]):
            d = batch.to_pydict()
            texts = [passage_text(t, x) for t, x in zip(d["title"], d["text"])]
            mm[row:row + len(texts)] = embedder.encode(texts, "passage")
            row += len(texts)
            if progress:
                progress(len(texts))
        mm.flush()
        del mm
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out


@dataclass
class CorpusIndex:
    """A FAISS inner-product index over corpus embeddings, with row -> passage id.

    kind `flat` (exact, default), `ivf` (IndexIVFFlat: trained on up to `train_rows` rows,
    `nlist` lists, `nprobe` searched) or `hnsw` (IndexHNSWFlat: `m` links, `ef_search`).
    `description` names the choice and its parameters (recorded by the index stage and the
    card). `embeddings`: the .npy it was built from (row k = passage `ids[k]`); `row_of`: the
    inverse of `ids`.
    """

    index: object
    ids: list[str]
    kind: str = "flat"
    description: str = "faiss.IndexFlatIP (exact)"
    embeddings: Path | None = None

    @functools.cached_property
    def row_of(self) -> dict[str, int]:
        """{passage id: row} of the embeddings / index."""
        return {pid: i for i, pid in enumerate(self.ids)}

    def vectors(self) -> np.ndarray:
        """The corpus embeddings, memory-mapped."""
        if self.embeddings is None:
            raise ValueError("this index was not built from an embeddings file")
        return np.load(self.embeddings, mmap_mode="r")

    @classmethod
    def build(cls, embeddings: Path, ids: list[str], kind: str = "flat", nlist: int | None = None,
              nprobe: int = 16, m: int = 32, ef_construction: int = 200, ef_search: int = 128,
              train_rows: int = 100_000, chunk_rows: int = 65536, seed: int = 0) -> "CorpusIndex":
        """Load embeddings chunk by chunk (the .npy is memory-mapped) into the chosen index."""
        import faiss

        arr = np.load(embeddings, mmap_mode="r")
        n, dim = arr.shape
        if n != len(ids):
            raise ValueError(f"{n} embeddings for {len(ids)} ids")
        if kind == "flat":
            index = faiss.IndexFlatIP(dim)
            desc = "faiss.IndexFlatIP (exact)"
        elif kind == "ivf":
            lists = nlist or max(1, min(int(4 * np.sqrt(n)), n // 39 or 1))
            quantizer = faiss.IndexFlatIP(dim)
            index = faiss.IndexIVFFlat(quantizer, dim, lists, faiss.METRIC_INNER_PRODUCT)
            rng = np.random.default_rng(seed)
            rows = np.sort(rng.choice(n, size=min(n, max(train_rows, 39 * lists)), replace=False))
            index.train(np.ascontiguousarray(arr[rows], dtype=np.float32))
            index.nprobe = min(nprobe, lists)
            desc = f"faiss.IndexIVFFlat (nlist={lists}, nprobe={index.nprobe}, trained on {len(rows)} rows)"
        elif kind == "hnsw":
            index = faiss.IndexHNSWFlat(dim, m, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = ef_construction
            index.hnsw.efSearch = ef_search
            desc = f"faiss.IndexHNSWFlat (M={m}, efConstruction={ef_construction}, efSearch={ef_search})"
        else:
            raise ValueError(f"unknown index kind {kind!r}")
        for i in range(0, n, chunk_rows):
            index.add(np.ascontiguousarray(arr[i:i + chunk_rows], dtype=np.float32))
        return cls(index=index, ids=ids, kind=kind, description=desc, embeddings=Path(embeddings))

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, list[list[str]]]:
        """Top-k (scores [n, k], passage ids per query); k is capped at the corpus size."""
        k = min(k, len(self.ids))
        scores, rows = self.index.search(np.ascontiguousarray(queries, dtype=np.float32), k)
        return scores, [[self.ids[r] for r in row if r >= 0] for row in rows]
