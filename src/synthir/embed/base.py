"""The Embedder protocol."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np

Kind = Literal["query", "passage"]


@runtime_checkable
class Embedder(Protocol):
    """`name` identifies the weights (it keys the corpus-embedding cache); `dim` the width."""

    name: str
    dim: int

    def encode(self, texts: list[str], kind: Kind) -> np.ndarray:
        """Return float32 [len(texts), dim], rows L2-normalised (inner product = cosine)."""
        ...


@dataclass
class EngineEmbedder:
    """An Embedder over a packaged encoding engine: `engine(texts, kind)` embeds one batch;
    batches of `batch_size`, rows L2-normalised when `normalize`."""

    name: str
    dim: int
    engine: Callable[[list[str], Kind], Any]
    batch_size: int = 64
    normalize: bool = True

    def encode(self, texts: list[str], kind: Kind) -> np.ndarray:
        return encode_batches(lambda batch: self.engine(batch, kind), texts, self.batch_size, self.dim,
                              self.normalize)


def encode_batches(encode: Callable[[list[str]], Any], texts: list[str], batch_size: int, dim: int,
                   normalize: bool = True) -> np.ndarray:
    """Run `encode` over `texts` in batches of `batch_size`; float32 [n, dim], rows
    L2-normalised when `normalize`."""
    if not texts:
        return np.zeros((0, dim), dtype=np.float32)
    parts = [np.asarray(encode(list(texts[i:i + batch_size])), dtype=np.float32).reshape(-1, dim)
             for i in range(0, len(texts), batch_size)]
    out = np.concatenate(parts)
    if normalize:
        out = out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
    return out


def packaged_name(label: str, dist: str) -> str:
    """`label@dist==version`: an embedder name that changes with the package shipping it."""
    from importlib.metadata import version

    return f"{label}@{dist}=={version(dist)}"


def cpu_threads(threads: int | None) -> int:
    """`embedder.threads`, else every core."""
    return threads or os.cpu_count() or 1
