"""The Embedder protocol."""

from __future__ import annotations

from typing import Literal, Protocol, runtime_checkable

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
