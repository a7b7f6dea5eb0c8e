"""Backend name registry with lazy imports: a backend module is imported only when used."""

from __future__ import annotations

import importlib
import threading
from typing import Any

from data_schemas.config import LLMConfig
from synthir.errors import ConfigError
from synthir.llm.base import LLM

_BACKENDS: dict[str, str] = {
    "transformers": "synthir.llm.transformers_backend:TransformersLLM",
    "llamacpp": "synthir.llm.llamacpp_backend:LlamaCppLLM",
    "openai": "synthir.llm.openai_backend:OpenAILLM",
    "vllm": "synthir.llm.vllm_backend:VLLMLLM",
}
_CACHE: dict[str, LLM] = {}
_LOCK = threading.Lock()


def backend_names() -> list[str]:
    """Names accepted by `llm.backend`."""
    return sorted(_BACKENDS)


def register_backend(name: str, target: str) -> None:
    """Register `module:Class` under `name` (the class takes an LLMConfig)."""
    _BACKENDS[name] = target


EXTRAS = {"llamacpp": "llamacpp", "vllm": "vllm"}


def _load(name: str) -> Any:
    module, _, attr = _BACKENDS[name].partition(":")
    return getattr(importlib.import_module(module), attr)


def _build(cfg: LLMConfig) -> LLM:
    """Instantiate the backend; a missing optional package is a config error that says what
    to install."""
    try:
        return _load(cfg.backend)(cfg)
    except ImportError as exc:
        extra = EXTRAS.get(cfg.backend)
        hint = f" (pip install 'synthir[{extra}]')" if extra else ""
        raise ConfigError(f"llm.backend {cfg.backend!r} needs a package that is not installed: "
                          f"{exc.name or exc}{hint}") from None


def model_identity(cfg: LLMConfig) -> str:
    """The model id the backend for `cfg` will report, without loading it (cache keys)."""
    return _load(cfg.backend).model_identity(cfg)


def get_llm(cfg: LLMConfig, reuse: bool = True) -> LLM:
    """Build (or reuse, per process) the backend for `cfg`. Loading a model is slow, so shard
    tasks in one process share it; `reuse=False` forces a fresh instance."""
    key = cfg.model_dump_json()
    with _LOCK:
        if reuse and key in _CACHE:
            return _CACHE[key]
        llm = _build(cfg)
        if reuse:
            _CACHE[key] = llm
        return llm
