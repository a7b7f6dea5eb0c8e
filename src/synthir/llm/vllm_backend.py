"""`vllm` backend: offline in-process batch generation with `vllm.LLM` (GPU). Extra `[vllm]`.

vLLM pins its own torch and transformers, so install it in a separate environment (README).
`to_vllm_kwargs` is the pure, unit-tested mapping from portable SamplingParams to
`vllm.SamplingParams` keyword arguments (structured output via `StructuredOutputsParams`).
`model: embedded` runs the embedded Gemma GGUF with the tokenizer synthir converted from it,
so a GPU smoke test needs no hub access (`scripts/vllm_smoke.py`).
"""

from __future__ import annotations

import logging
from typing import Any

from data_schemas.config import LLMConfig
from synthir.llm.base import BackendOptions, Generation, SamplingParams, error_generations, sample_seed
from synthir.llm.models import EMBEDDED, weights_identity

log = logging.getLogger(__name__)


def to_vllm_kwargs(params: SamplingParams, prompt: str = "") -> dict[str, Any]:
    """Map portable SamplingParams to `vllm.SamplingParams(**kw)` for one prompt (pure
    function). The seed is the prompt's own (`sample_seed(seed, 0, prompt)`; vLLM draws the n
    samples from it): one seed for every prompt would replay the same random streams on each.
    A JSON schema becomes `structured_outputs={"json": schema}` (built into
    StructuredOutputsParams by the backend)."""
    kw: dict[str, Any] = {"n": params.n, "max_tokens": params.max_tokens,
                          "temperature": params.temperature,
                          "top_p": params.top_p if params.temperature > 0 else 1.0}
    if params.stop:
        kw["stop"] = list(params.stop)
    if params.seed is not None:
        kw["seed"] = sample_seed(params.seed, 0, prompt)
    schema = params.schema()
    if schema is not None:
        kw["structured_outputs"] = {"json": schema}
    return kw


def to_engine_kwargs(cfg: LLMConfig, model: str, tokenizer: str | None) -> dict[str, Any]:
    """Map LLMConfig to `vllm.LLM(**kw)` (pure function)."""
    kw: dict[str, Any] = {"model": model, "dtype": cfg.dtype if cfg.dtype != "float32" else "auto",
                          "max_model_len": cfg.context_length,
                          "gpu_memory_utilization": cfg.gpu_memory_utilization,
                          "tensor_parallel_size": cfg.tensor_parallel_size,
                          "pipeline_parallel_size": cfg.pipeline_parallel_size, "seed": 0}
    if cfg.data_parallel_size > 1:  # engine replicas; left out at 1 for older vLLM versions
        kw["data_parallel_size"] = cfg.data_parallel_size
    if tokenizer:
        kw["tokenizer"] = tokenizer
    return kw


def read_outputs(outputs: list[Any], n: int) -> list[Generation]:
    """vLLM RequestOutputs -> n Generations per prompt, grouped in prompt order."""
    gens: list[Generation] = []
    for out in outputs:
        prompt_tokens = len(out.prompt_token_ids or [])
        samples = list(out.outputs)[:n]
        for k, o in enumerate(samples):
            gens.append(Generation(text=o.text, finish_reason="length" if o.finish_reason == "length" else "stop",
                                   prompt_tokens=prompt_tokens if k == 0 else 0,
                                   completion_tokens=len(o.token_ids)))
        gens.extend(error_generations(n - len(samples), "vLLM returned fewer samples than n"))
    return gens


class Options(BackendOptions):
    """The vllm backend's own `llm.*` keys."""

    gguf_file: str | None = None
    dtype: str = "float32"
    context_length: int = 4096
    gpu_memory_utilization: float = 0.9
    tensor_parallel_size: int = 1
    pipeline_parallel_size: int = 1
    data_parallel_size: int = 1


class VLLMLLM:
    """Implements the LLM protocol with `vllm.LLM` (see module doc)."""

    backend = "vllm"
    model_identity = staticmethod(weights_identity)  # same id as the transformers backend

    def __init__(self, cfg: LLMConfig) -> None:
        import vllm

        self.cfg = cfg
        self.model_id = self.model_identity(cfg)
        tokenizer = None
        model = cfg.model
        if cfg.model == "embedded":
            from synthir.llm.models import embedded_gguf, embedded_tokenizer_dir

            path, _ = embedded_gguf()
            model, tokenizer = str(path), str(embedded_tokenizer_dir())
        elif cfg.model in EMBEDDED:  # embedded-chat and the split instruct GGUFs
            from synthir.llm.models import gguf_path

            model = str(gguf_path(cfg))  # vLLM reads the tokenizer from the GGUF
        elif cfg.gguf_file:
            model = f"{cfg.model.rstrip('/')}/{cfg.gguf_file}"
            tokenizer = cfg.model
        self._vllm = vllm
        self.engine = vllm.LLM(**to_engine_kwargs(cfg, model, tokenizer))

    def _sampling(self, params: SamplingParams, prompt: str) -> Any:
        kw = to_vllm_kwargs(params, prompt)
        if "structured_outputs" in kw:
            from vllm.sampling_params import StructuredOutputsParams

            kw["structured_outputs"] = StructuredOutputsParams(**kw["structured_outputs"])
        return self._vllm.SamplingParams(**kw)

    def generate(self, prompts: list[str], params: SamplingParams) -> list[Generation]:
        """One engine call for the whole list (vLLM schedules its own batches)."""
        if not prompts:
            return []
        try:
            sp = [self._sampling(params, p) for p in prompts]  # one seed per prompt
            if self.cfg.api == "chat":
                convs = [[{"role": "user", "content": p}] for p in prompts]
                outputs = self.engine.chat(convs, sp, use_tqdm=False)
            else:
                outputs = self.engine.generate(prompts, sp, use_tqdm=False)
            return read_outputs(outputs, params.n)
        except Exception as exc:  # counted per prompt, never a crash
            log.warning("vLLM generation failed: %s", exc)
            return error_generations(len(prompts) * params.n, f"{type(exc).__name__}: {exc}")
