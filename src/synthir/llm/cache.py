"""Response cache keyed on (rendered prompt, backend, model id, sampling params).

A SQLite file; successful generations only (errors are retried next time). Wrap any LLM:
`CachedLLM(llm, path)` behaves like the LLM and never pays twice for one call.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from dataclasses import replace
from collections.abc import Callable
from pathlib import Path

from synthir.llm.base import LLM, Generation, SamplingParams


def cache_key(prompt: str, backend: str, model_id: str, params: SamplingParams) -> str:
    """sha256 over the exact prompt text, the model identity and the sampling params."""
    payload = json.dumps([prompt, backend, model_id, params.as_dict()], ensure_ascii=False,
                         sort_keys=True)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class CachedLLM:
    """An LLM wrapper with a persistent response cache. Counts `hits` and `misses`
    (misses = prompts actually sent to the wrapped backend).

    `llm` is a backend instance, or a factory called on the first cache miss (so a fully
    cached run never loads the model); with a factory, pass `backend` and `model_id`.
    """

    def __init__(self, llm: LLM | Callable[[], LLM], path: Path, backend: str | None = None,
                 model_id: str | None = None) -> None:
        if callable(llm) and not hasattr(llm, "generate"):
            if backend is None or model_id is None:
                raise ValueError("a backend factory needs backend and model_id")
            self._factory, self._inner = llm, None
        else:
            self._factory, self._inner = None, llm
        self.backend = backend or llm.backend
        self.model_id = model_id or llm.model_id
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, timeout=60)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, "
                         "value TEXT NOT NULL)")
        self._db.commit()
        self.hits = 0
        self.misses = 0

    @property
    def inner(self) -> LLM:
        """The wrapped backend (built on first use when given a factory)."""
        if self._inner is None:
            assert self._factory is not None
            self._inner = self._factory()
        return self._inner

    def _get(self, key: str) -> Generation | None:
        row = self._db.execute("SELECT value FROM responses WHERE key=?", (key,)).fetchone()
        if row is None:
            return None
        d = json.loads(row[0])
        return Generation(text=d["text"], finish_reason=d["finish_reason"],
                          prompt_tokens=d["prompt_tokens"], completion_tokens=d["completion_tokens"],
                          cached=True)

    def generate(self, prompts: list[str], params: SamplingParams) -> list[Generation]:
        """Serve cached prompts from disk, send the rest to the backend, store its successes."""
        keys = [cache_key(p, self.backend, self.model_id, params) for p in prompts]
        out: list[Generation | None] = []
        with self._lock:
            for k in keys:
                out.append(self._get(k))
        missing = [i for i, g in enumerate(out) if g is None]
        self.hits += len(prompts) - len(missing)
        if missing:
            self.misses += len(missing)
            fresh = self.inner.generate([prompts[i] for i in missing], params)
            with self._lock:
                for i, gen in zip(missing, fresh):
                    out[i] = replace(gen, cached=False)
                    if gen.finish_reason != "error":
                        value = json.dumps({"text": gen.text, "finish_reason": gen.finish_reason,
                                            "prompt_tokens": gen.prompt_tokens,
                                            "completion_tokens": gen.completion_tokens},
                                           ensure_ascii=False)
                        self._db.execute("INSERT OR REPLACE INTO responses VALUES (?, ?)",
                                         (keys[i], value))
                self._db.commit()
        return [g for g in out if g is not None]

    def close(self) -> None:
        """Close the SQLite connection."""
        self._db.close()
