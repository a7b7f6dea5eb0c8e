"""Where synthir keeps caches shared across runs (model files, tokenizers, responses,
corpus embeddings)."""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    """`$SYNTHIR_CACHE_DIR`, else ~/.cache/synthir."""
    return Path(os.environ.get("SYNTHIR_CACHE_DIR", Path.home() / ".cache" / "synthir"))
