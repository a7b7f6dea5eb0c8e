"""Backend name registry with lazy imports: a backend module is imported only when used.

Each backend module declares `Options(BackendOptions)`, its own `llm.*` keys; `llm.backend`
selects it and `check_options` refuses a key the selected backend does not take.
"""

from __future__ import annotations

from data_schemas.config import LLMConfig
from synthir.errors import ConfigError
from synthir.llm.base import LLM, BackendOptions
from synthir.llm.models import model_identity as model_identity  # re-exported: cache keys
from synthir.registry import Registry

BACKENDS = Registry({
    "transformers": "synthir.llm.transformers_backend:TransformersLLM",
    "llamacpp": "synthir.llm.llamacpp_backend:LlamaCppLLM",
    "openai": "synthir.llm.openai_backend:OpenAILLM",
    "vllm": "synthir.llm.vllm_backend:VLLMLLM",
})
EXTRAS = {"llamacpp": "llamacpp", "vllm": "vllm"}


def backend_names() -> list[str]:
    """Names accepted by `llm.backend`."""
    return BACKENDS.names()


def register_backend(name: str, target: str) -> None:
    """Register `module:Class` under `name` (the class takes an LLMConfig; its module may
    declare `Options`)."""
    BACKENDS.register(name, target)


def backend_options(name: str) -> type[BackendOptions]:
    """The Options class of backend `name` (a backend without one takes only common keys)."""
    module = __import__(BACKENDS.targets[name].partition(":")[0], fromlist=["Options"])
    return getattr(module, "Options", BackendOptions)


def check_options(cfg: LLMConfig, key: str = "llm") -> None:
    """ConfigError when the config sets a backend-specific `llm.*` key that the selected
    backend does not take (e.g. `base_url` with `llamacpp`)."""
    specific = {k for name in backend_names() for k in backend_options(name).model_fields}
    own = set(backend_options(cfg.backend).model_fields)
    defaults = type(cfg)()  # a saved full config (re-publish) repeats every default: not "set"
    wrong = sorted(k for k in (cfg.model_fields_set & specific) - own if getattr(cfg, k) != getattr(defaults, k))
    if wrong:
        takes = ", ".join(sorted(own)) or "none"
        raise ConfigError(f"invalid config: {key}.{wrong[0]}: not an option of the {cfg.backend} backend "
                          f"(its own options: {takes})")


def _build(cfg: LLMConfig) -> LLM:
    """Instantiate the backend; a missing optional package is a config error that says what
    to install."""
    try:
        return BACKENDS.load(cfg.backend)(cfg)
    except ImportError as exc:
        extra = EXTRAS.get(cfg.backend)
        hint = f" (pip install 'synthir[{extra}]')" if extra else ""
        raise ConfigError(f"llm.backend {cfg.backend!r} needs a package that is not installed: "
                          f"{exc.name or exc}{hint}") from None


def get_llm(cfg: LLMConfig, reuse: bool = True) -> LLM:
    """Build (or reuse, per process) the backend for `cfg`. Loading a model is slow, so shard
    tasks in one process share it; `reuse=False` forces a fresh instance."""
    return BACKENDS.shared(cfg.model_dump_json(exclude={"price"}), lambda: _build(cfg), reuse=reuse)
