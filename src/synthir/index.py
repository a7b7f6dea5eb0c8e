"""Corpus embeddings (streamed, cached on disk) and a FAISS inner-product index over them.

The cache key is (corpus fingerprint, embedder name): a corpus is embedded once per embedder,
whatever run uses it. Embeddings are written chunk by chunk to a .npy memmap, so the corpus
texts are never all in RAM.
"""

from __future__ import annotations

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
    """FAISS exact inner-product index over corpus embeddings, with row -> passage id."""

    index: object
    ids: list[str]
    kind: str = "flat-ip"

    @classmethod
    def build(cls, embeddings: Path, ids: list[str], chunk_rows: int = 65536) -> "CorpusIndex":
        """Load embeddings chunk by chunk into an IndexFlatIP."""
        import faiss

        arr = np.load(embeddings, mmap_mode="r")
        if arr.shape[0] != len(ids):
            raise ValueError(f"{arr.shape[0]} embeddings for {len(ids)} ids")
        index = faiss.IndexFlatIP(arr.shape[1])
        for i in range(0, arr.shape[0], chunk_rows):
            index.add(np.ascontiguousarray(arr[i:i + chunk_rows], dtype=np.float32))
        return cls(index=index, ids=ids)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, list[list[str]]]:
        """Top-k (scores [n, k], passage ids per query); k is capped at the corpus size."""
        k = min(k, len(self.ids))
        scores, rows = self.index.search(np.ascontiguousarray(queries, dtype=np.float32), k)
        return scores, [[self.ids[r] for r in row if r >= 0] for row in rows]
