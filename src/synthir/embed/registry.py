"""Embedder name registry with lazy imports."""

from __future__ import annotations

import importlib
import threading

from data_schemas.config import EmbedderConfig
from synthir.embed.base import Embedder

_EMBEDDERS: dict[str, str] = {
    "use-multilingual": "synthir.embed.use:USEEmbedder",
    "e5-small": "synthir.embed.e5:E5SmallEmbedder",
    "sentence-transformers": "synthir.embed.st:SentenceTransformerEmbedder",
}
_CACHE: dict[str, Embedder] = {}
_LOCK = threading.Lock()


def embedder_names() -> list[str]:
    """Names accepted by `embedder.name`."""
    return sorted(_EMBEDDERS)


def get_embedder(cfg: EmbedderConfig) -> Embedder:
    """Build (or reuse, per process) the embedder for `cfg`."""
    key = cfg.model_dump_json()
    with _LOCK:
        if key not in _CACHE:
            module, _, attr = _EMBEDDERS[cfg.name].partition(":")
            _CACHE[key] = getattr(importlib.import_module(module), attr)(cfg)
        return _CACHE[key]
