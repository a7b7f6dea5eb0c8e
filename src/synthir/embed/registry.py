"""Embedder name registry with lazy imports."""

from __future__ import annotations

from data_schemas.config import EmbedderConfig
from synthir.embed.base import Embedder
from synthir.registry import Registry

EMBEDDERS = Registry({
    "use-multilingual": "synthir.embed.use:USEEmbedder",
    "e5-small": "synthir.embed.e5:E5SmallEmbedder",
    "sentence-transformers": "synthir.embed.st:SentenceTransformerEmbedder",
})


def embedder_names() -> list[str]:
    """Names accepted by `embedder.name`."""
    return EMBEDDERS.names()


def get_embedder(cfg: EmbedderConfig) -> Embedder:
    """Build (or reuse, per process) the embedder for `cfg`."""
    return EMBEDDERS.shared(cfg.model_dump_json(), lambda: EMBEDDERS.load(cfg.name)(cfg))
