"""Secrets never leave the process: one function masks them in every error detail, log line,
rejected row, lock file and dataset card.

`redact(text)` replaces with `***`: every registered secret value (the API key of
`llm.api_key_env` and the Hugging Face token of `output.hub.token_env`, registered when a
config is loaded or a backend reads them), `Bearer <credential>` (an echoed Authorization
header), and strings shaped like Hugging Face (`hf_…`) or OpenAI (`sk-…`) keys.
`RedactingFilter` applies it to log records; `install_log_filter()` puts it on the handlers
of the root logger (the CLI calls it once).
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Iterable
from typing import Any

MASK = "***"
MIN_SECRET_CHARS = 6  # shorter "keys" (e.g. EMPTY for a local vLLM) would mask ordinary words

_PATTERNS = (
    # an Authorization value: `Bearer` + a credential-looking word (has a digit, >= 8 chars)
    (re.compile(r"(?i)\b(bearer)\s+(?=[A-Za-z._~+/=-]*\d)[A-Za-z0-9._~+/=-]{8,}"), r"\1 " + MASK),
    (re.compile(r"\bhf_[A-Za-z0-9]{20,}"), MASK),
    (re.compile(r"\bsk-[A-Za-z0-9_-]{16,}"), MASK),
)
_secrets: set[str] = set()
_lock = threading.Lock()


def register(*values: str | None) -> None:
    """Remember secret values to mask from now on (empty / very short values are ignored)."""
    with _lock:
        _secrets.update(v for v in values if v and len(v) >= MIN_SECRET_CHARS)


def register_env(*names: str | None) -> None:
    """Register the values of these environment variables (unset ones are skipped)."""
    register(*(os.environ.get(n) for n in names if n))


def register_config(cfg: Any) -> None:
    """Register the secrets a run config points at: `llm.api_key_env`, `output.hub.token_env`."""
    register_env(getattr(cfg.llm, "api_key_env", None), cfg.output.hub.token_env)


def redact(text: str, extra: Iterable[str] = ()) -> str:
    """`text` with every secret (registered values, `extra`, key-shaped strings) as `***`."""
    if not text:
        return text
    with _lock:
        values = sorted(_secrets | {v for v in extra if v and len(v) >= MIN_SECRET_CHARS},
                        key=len, reverse=True)
    for v in values:
        if v in text:
            text = text.replace(v, MASK)
    for pattern, repl in _PATTERNS:
        text = pattern.sub(repl, text)
    return text


class RedactingFilter(logging.Filter):
    """A logging filter that redacts the formatted message (and exception text) of a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string is logging's problem, not ours
            return True
        record.msg, record.args = redact(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def install_log_filter(logger: logging.Logger | None = None) -> None:
    """Put one RedactingFilter on every handler of `logger` (default: the root logger)."""
    for handler in (logger or logging.getLogger()).handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
