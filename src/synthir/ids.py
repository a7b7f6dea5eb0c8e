"""Content-hash IDs: the same content always gets the same ID (stable across resumes)."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def content_id(*parts: Any, n: int = 16) -> str:
    """Return the first `n` hex chars of sha256 over the JSON encoding of `parts`."""
    payload = json.dumps(parts, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:n]


def sha256_text(text: str) -> str:
    """Full sha256 hex digest of a UTF-8 string."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
