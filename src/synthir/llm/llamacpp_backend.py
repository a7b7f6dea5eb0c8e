"""`llamacpp` backend: in-process llama.cpp (llama-cpp-python) on a GGUF file, CPU.

`model: embedded` is the same Gemma 3 270M GGUF the transformers backend runs,
`embedded-chat` the SmolLM2-135M-Instruct GGUF (chat); otherwise `model` is a .gguf path
(or a dir + `gguf_file`). Prompts run one at a time (llama.cpp reuses
the KV cache of a shared prompt prefix, which few-shot prompts have). Structured output: the
JSON schema becomes a llama.cpp grammar. `to_llamacpp_kwargs` is the pure parameter mapping.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path
from typing import Any

from data_schemas.config import LLMConfig
from synthir.llm.base import Generation, SamplingParams
from synthir.llm.transformers_backend import TransformersLLM, cut_at_stop, local_gguf

log = logging.getLogger(__name__)


def to_llamacpp_kwargs(params: SamplingParams, sample: int = 0) -> dict[str, Any]:
    """Map portable SamplingParams to `create_completion` keyword arguments (pure function);
    sample k of n uses seed + k. Greedy is temperature 0 with top_k 1."""
    kw: dict[str, Any] = {"max_tokens": params.max_tokens, "temperature": params.temperature,
                          "top_p": params.top_p if params.temperature > 0 else 1.0,
                          "top_k": 0 if params.temperature > 0 else 1}
    if params.stop:
        kw["stop"] = list(params.stop)
    if params.seed is not None:
        kw["seed"] = params.seed + sample
    return kw


def schema_to_gbnf(schema: str) -> str:
    """A llama.cpp GBNF grammar for a JSON schema that keeps the schema's property order
    (llama.cpp's default sorts keys; summarize-then-ask needs the summary first)."""
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    order = list((json.loads(schema).get("properties") or {}).keys())
    return json_schema_to_gbnf(schema, prop_order=order)


def gguf_path(cfg: LLMConfig) -> Path:
    """The GGUF file `cfg` names (the embedded one for `model: embedded`)."""
    src, gguf = local_gguf(cfg)
    return Path(src) / gguf if gguf else Path(src)


class LlamaCppLLM:
    """Implements the LLM protocol with llama-cpp-python (see module doc)."""

    backend = "llamacpp"

    def __init__(self, cfg: LLMConfig) -> None:
        from llama_cpp import Llama

        self.cfg = cfg
        self.model_id = self.model_identity(cfg)
        path = gguf_path(cfg)
        if not path.is_file():
            raise FileNotFoundError(f"GGUF file not found: {path}")
        threads = cfg.threads or os.cpu_count() or 1
        log.info("loading %s with llama.cpp (%s threads)", self.model_id, threads)
        self.llm = Llama(model_path=str(path), n_ctx=cfg.context_length, n_threads=threads,
                         n_threads_batch=threads, seed=0, verbose=False)
        self._grammars: dict[str, Any] = {}
        self._lock = threading.Lock()  # a Llama context is not thread-safe

    @staticmethod
    def model_identity(cfg: LLMConfig) -> str:
        """Same identity as the transformers backend for the same GGUF."""
        return TransformersLLM.model_identity(cfg)

    def _grammar(self, schema: str | None) -> Any:
        if schema is None or not self.cfg.structured_output:
            return None
        if schema not in self._grammars:
            from llama_cpp import LlamaGrammar

            self._grammars[schema] = LlamaGrammar.from_string(schema_to_gbnf(schema), verbose=False)
        return self._grammars[schema]

    def _one(self, prompt: str, params: SamplingParams, sample: int) -> Generation:
        kw = to_llamacpp_kwargs(params, sample)
        grammar = self._grammar(params.json_schema)
        if grammar is not None:
            kw["grammar"] = grammar
        try:
            with self._lock:
                if self.cfg.api == "chat":
                    res = self.llm.create_chat_completion(
                        messages=[{"role": "user", "content": prompt}], **kw)
                    choice = res["choices"][0]
                    text = choice["message"].get("content") or ""
                else:
                    res = self.llm.create_completion(prompt=prompt, **kw)
                    choice = res["choices"][0]
                    text = choice["text"]
        except Exception as exc:  # e.g. prompt longer than n_ctx: counted, never a crash
            return Generation(text="", finish_reason="error", error=f"{type(exc).__name__}: {exc}")
        text, found = cut_at_stop(text, params.stop)
        usage = res.get("usage") or {}
        return Generation(text=text,
                          finish_reason="length" if choice.get("finish_reason") == "length" and not found else "stop",
                          prompt_tokens=int(usage.get("prompt_tokens", 0)) if sample == 0 else 0,
                          completion_tokens=int(usage.get("completion_tokens", 0)))

    def generate(self, prompts: list[str], params: SamplingParams) -> list[Generation]:
        """n completions per prompt, grouped in prompt order."""
        return [self._one(p, params, k) for p in prompts for k in range(params.n)]
