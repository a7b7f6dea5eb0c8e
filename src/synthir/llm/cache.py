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

from synthir.llm.base import LLM, Generation, SamplingParams, error_generations


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

    def _get(self, key: str, n: int) -> list[Generation] | None:
        row = self._db.execute("SELECT value FROM responses WHERE key=?", (key,)).fetchone()
        if row is None:
            return None
        value = json.loads(row[0])
        samples = value if isinstance(value, list) else [value]
        if len(samples) != n:
            return None
        return [Generation(text=d["text"], finish_reason=d["finish_reason"],
                           prompt_tokens=d["prompt_tokens"], completion_tokens=d["completion_tokens"],
                           cached=True) for d in samples]

    def generate(self, prompts: list[str], params: SamplingParams) -> list[Generation]:
        """Serve cached prompts from disk, send the rest to the backend, store its successes
        (a prompt is stored only when all of its `n` samples succeeded)."""
        n = params.n
        keys = [cache_key(p, self.backend, self.model_id, params) for p in prompts]
        out: list[list[Generation] | None] = []
        with self._lock:
            for k in keys:
                out.append(self._get(k, n))
        missing = [i for i, g in enumerate(out) if g is None]
        self.hits += len(prompts) - len(missing)
        if missing:
            self.misses += len(missing)
            fresh = self.inner.generate([prompts[i] for i in missing], params)
            if len(fresh) != len(missing) * n:  # a backend bug must not shift answers to other prompts
                fresh = error_generations(len(missing) * n, f"backend returned {len(fresh)} "
                                          f"generations for {len(missing)} prompts x n={n}")
            with self._lock:
                for j, i in enumerate(missing):
                    samples = [replace(g, cached=False) for g in fresh[j * n:(j + 1) * n]]
                    out[i] = samples
                    if all(g.finish_reason != "error" for g in samples):
                        value = [{"text": g.text, "finish_reason": g.finish_reason,
                                  "prompt_tokens": g.prompt_tokens,
                                  "completion_tokens": g.completion_tokens} for g in samples]
                        self._db.execute("INSERT OR REPLACE INTO responses VALUES (?, ?)",
                                         (keys[i], json.dumps(value if n > 1 else value[0],
                                                              ensure_ascii=False)))
                self._db.commit()
        return [g for samples in out if samples is not None for g in samples]

    def close(self) -> None:
        """Close the SQLite connection."""
        self._db.close()
