"""Embedders behind one protocol (`encode(texts, kind) -> float32 [n, d], L2-normalised`)."""

from synthir.embed.base import Embedder

__all__ = ["Embedder"]
