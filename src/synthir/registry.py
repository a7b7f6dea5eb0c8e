"""A name registry with lazy imports (LLM backends, embedders): a `module:Class` target is
imported only when its name is used, and built objects are shared per process (loading a
model is slow)."""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from typing import Any


class Registry:
    """{name: "module:attr"}; `load(name)` imports the target, `shared(key, build)` builds once."""

    def __init__(self, targets: dict[str, str]) -> None:
        self.targets = dict(targets)
        self._cache: dict[str, Any] = {}
        self._lock = threading.Lock()

    def names(self) -> list[str]:
        return sorted(self.targets)

    def register(self, name: str, target: str) -> None:
        """Register `module:attr` under `name`."""
        self.targets[name] = target

    def load(self, name: str) -> Any:
        module, _, attr = self.targets[name].partition(":")
        return getattr(importlib.import_module(module), attr)

    def shared(self, key: str, build: Callable[[], Any], reuse: bool = True) -> Any:
        """The object cached under `key`, built by `build()` the first time (`reuse=False`:
        always a fresh one, not cached)."""
        with self._lock:
            if reuse and key in self._cache:
                return self._cache[key]
            obj = build()
            if reuse:
                self._cache[key] = obj
            return obj
