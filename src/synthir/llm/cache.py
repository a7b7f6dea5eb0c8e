"""Response cache keyed on (rendered prompt, backend, model id, sampling params).

A SQLite file; successful generations only (errors are retried next time). Wrap any LLM:
`CachedLLM(llm, path)` behaves like the LLM and never pays twice for one call.

Self-healing: every entry is checked when read (UTF-8, JSON, shape: `n` samples with text,
finish_reason, token counts). A bad entry (garbage bytes, truncated, wrong shape) is deleted,
counted in `repaired` and logged with a warning naming the cache file, and its prompt is sent
to the backend again. A cache file that is not a SQLite database is moved aside
(`<name>.corrupt-<time>`) with a warning, and a new one started.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import threading
import time
from dataclasses import replace
from collections.abc import Callable
from pathlib import Path

from synthir.llm.base import LLM, Generation, SamplingParams, error_generations

log = logging.getLogger(__name__)
FINISH = ("stop", "length")


def cache_key(prompt: str, backend: str, model_id: str, params: SamplingParams) -> str:
    """sha256 over the exact prompt text, the model identity and the sampling params."""
    payload = json.dumps([prompt, backend, model_id, params.as_dict()], ensure_ascii=False,
                         sort_keys=True)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def entry_problem(samples: list, n: int) -> str | None:
    """Why a decoded cache entry is unusable (None when it is `n` well-formed samples)."""
    if len(samples) != n:
        return f"of the wrong shape ({len(samples)} samples, expected {n})"
    for d in samples:
        if not isinstance(d, dict) or not isinstance(d.get("text"), str) \
                or d.get("finish_reason") not in FINISH \
                or not all(isinstance(d.get(k), int) and not isinstance(d.get(k), bool)
                           for k in ("prompt_tokens", "completion_tokens")):
            return "of the wrong shape (a sample lacks text / finish_reason / token counts)"
    return None


class CachedLLM:
    """An LLM wrapper with a persistent response cache. Counts `hits`, `misses` (prompts
    actually sent to the wrapped backend) and `repaired` (bad entries dropped and re-fetched).

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
        try:
            self._db = self._open()
        except sqlite3.DatabaseError as exc:  # not a database (garbage, truncated header)
            aside = self.path.with_name(f"{self.path.name}.corrupt-{time.strftime('%Y%m%dT%H%M%S')}")
            self.path.rename(aside)
            for suffix in ("-wal", "-shm"):
                self.path.with_name(self.path.name + suffix).unlink(missing_ok=True)
            log.warning("response cache %s is unreadable (%s): moved to %s, starting a new one",
                        self.path, exc, aside.name)
            self._db = self._open()
        self.hits = 0
        self.misses = 0
        self.repaired = 0

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(str(self.path), check_same_thread=False, timeout=60)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            db.commit()
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    @property
    def inner(self) -> LLM:
        """The wrapped backend (built on first use when given a factory)."""
        if self._inner is None:
            assert self._factory is not None
            self._inner = self._factory()
        return self._inner

    def _get(self, key: str, n: int) -> list[Generation] | None:
        """The cached samples of `key`; None when absent or bad (a bad entry is dropped)."""
        try:
            row = self._db.execute("SELECT value FROM responses WHERE key=?", (key,)).fetchone()
        except sqlite3.Error as exc:  # e.g. bytes that are not UTF-8 in the value
            return self._drop(key, f"unreadable ({exc})")
        if row is None:
            return None
        try:
            value = json.loads(row[0])
        except (TypeError, ValueError) as exc:
            return self._drop(key, f"not JSON ({exc})")
        samples = value if isinstance(value, list) else [value]
        problem = entry_problem(samples, n)
        if problem:
            return self._drop(key, problem)
        return [Generation(text=d["text"], finish_reason=d["finish_reason"],
                           prompt_tokens=d["prompt_tokens"], completion_tokens=d["completion_tokens"],
                           cached=True) for d in samples]

    def _drop(self, key: str, why: str) -> None:
        """Delete a bad entry, count it and say so (naming the file); its prompt is re-sent."""
        self._db.execute("DELETE FROM responses WHERE key=?", (key,))
        self._db.commit()
        self.repaired += 1
        log.warning("response cache %s: entry %s… is %s; dropped, the prompt is sent again",
                    self.path, key[:12], why)
        return None

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
