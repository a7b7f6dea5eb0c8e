"""`llamacpp` backend: in-process llama.cpp (llama-cpp-python) on a GGUF file, CPU.

`model: embedded` is the same Gemma 3 270M GGUF the transformers backend runs,
`embedded-chat` the SmolLM2-135M-Instruct GGUF (chat); otherwise `model` is a .gguf path
(or a dir + `gguf_file`). Prompts run one at a time; the n samples of a prompt decode
together, `parallel_samples` at a time (synthir.llm.llamacpp_parallel; `parallel_samples: 1`
decodes them one by one through llama-cpp-python's `create_completion`). Structured output:
the JSON schema becomes a llama.cpp grammar. `to_llamacpp_kwargs` is the pure parameter
mapping. A `logit_penalty` (the copy penalty) becomes a per-prompt `logit_bias` over its tokens.

Reproducible samples, reused prefixes: llama.cpp evaluates a prompt in batches of
`prompt_block` tokens (n_batch), and a prompt's logits depend on where its evaluation was split:
the embedded Gemma's last-token logits moved by up to 0.72 when a 300-token few-shot prompt was
evaluated as 15 + 285 tokens instead of at once, enough to change temperature samples. So a
prompt takes from the KV cache only the whole blocks [0, B), [B, 2B), ... it shares with the
previous prompt (`aligned_prefix`) and evaluates the rest from that block boundary: the splits
fall where they would from an empty cache, so its samples do not depend on which prompt ran
before it (a run resumed after a kill, or with other shards, writes the same queries). A
prompt's other samples reuse its whole cache (decoded together: share its cells). This pays
off when prompts share a long head, like Promptagator's fixed few-shot prompt
(`example_selection: first`): 8 in-domain examples are most of each prompt. With per-passage
example draws only the instruction header is shared.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from typing import Any

from data_schemas.config import LLMConfig
from synthir.llm.base import BackendOptions, Generation, SamplingParams, cut_at_stop, penalty_bias, sample_seed
from synthir.llm import llamacpp_parallel
from synthir.llm.gbnf import schema_to_gbnf
from synthir.errors import ConfigError
from synthir.llm.models import EMBEDDED, gguf_path, weights_identity

log = logging.getLogger(__name__)


def aligned_prefix(cached: Sequence[int], reusable: int, tokens: Sequence[int], block: int) -> int:
    """How many leading tokens of the prompt `tokens` to take from the KV cache (pure function).

    Inputs: `cached` the token ids the cache holds, `reusable` how many of them may be reused
    (the previous prompt's length minus 1: its last prompt token is evaluated again, alone, by
    its other samples, and generated tokens are evaluated one at a time), `block` the
    evaluation batch. Output: the longest shared prefix, never the prompt's last token, rounded
    down to whole blocks."""
    same = common_prefix(cached, tokens, min(len(cached), reusable, len(tokens) - 1))
    return same - same % block


def common_prefix(a: Sequence[int], b: Sequence[int], limit: int) -> int:
    """How many leading tokens `a` and `b` share, at most `limit` (pure function)."""
    same = 0
    while same < limit and a[same] == b[same]:
        same += 1
    return same


def to_llamacpp_kwargs(params: SamplingParams, sample: int = 0, prompt: str = "") -> dict[str, Any]:
    """Map portable SamplingParams to `create_completion` keyword arguments (pure function);
    sample k of n of `prompt` uses sample_seed(seed, k, prompt). Greedy is temperature 0 with top_k 1."""
    kw: dict[str, Any] = {"max_tokens": params.max_tokens, "temperature": params.temperature,
                          "top_p": params.top_p if params.temperature > 0 else 1.0,
                          "top_k": 0 if params.temperature > 0 else 1}
    if params.stop:
        kw["stop"] = list(params.stop)
    if params.seed is not None:
        kw["seed"] = sample_seed(params.seed, sample, prompt)
    return kw


class Options(BackendOptions):
    """The llamacpp backend's own `llm.*` keys."""

    gguf_file: str | None = None
    threads: int | None = None
    context_length: int = 4096
    prompt_block: int = 512
    parallel_samples: int = 8


class LlamaCppLLM:
    """Implements the LLM protocol with llama-cpp-python (see module doc)."""

    backend = "llamacpp"
    model_identity = staticmethod(weights_identity)  # same id as the transformers backend for a GGUF

    def __init__(self, cfg: LLMConfig) -> None:
        from llama_cpp import Llama

        self.cfg = cfg
        self.model_id = self.model_identity(cfg)
        path = gguf_path(cfg)
        if not path.is_file():
            raise ConfigError(f"llm.model: GGUF file not found: {path} (give a .gguf path or one of "
                              f"{', '.join(EMBEDDED)})")
        opts = Options.of(cfg)
        threads = opts.threads or os.cpu_count() or 1
        log.info("loading %s with llama.cpp (%s threads)", self.model_id, threads)
        self.llm = _block_llama(Llama)(model_path=str(path), n_ctx=opts.context_length,
                                       n_batch=opts.prompt_block, n_ubatch=opts.prompt_block,
                                       n_threads=threads, n_threads_batch=threads, seed=0, verbose=False)
        self.parallel = opts.parallel_samples
        llamacpp_parallel.widen_context(self.llm, self.parallel)
        self._grammars: dict[str, Any] = {}
        self._lock = threading.Lock()  # a Llama context is not thread-safe

    def _grammar(self, schema: str | None) -> Any:
        if schema is None or not self.cfg.structured_output:
            return None
        if schema not in self._grammars:
            from llama_cpp import LlamaGrammar

            self._grammars[schema] = LlamaGrammar.from_string(schema_to_gbnf(schema), verbose=False)
        return self._grammars[schema]

    def _one(self, prompt: str, params: SamplingParams, sample: int, bias: dict[int, float]) -> Generation:
        kw = to_llamacpp_kwargs(params, sample, prompt)
        grammar = self._grammar(params.json_schema)
        if grammar is not None:
            kw["grammar"] = grammar
        if bias:
            kw["logit_bias"] = bias
        try:
            with self._lock:
                self.llm.align_next = sample == 0  # whole shared blocks only: see the module doc
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
            self.llm.reusable = 0  # the cache may hold a half-evaluated prompt
            return Generation(text="", finish_reason="error", error=f"{type(exc).__name__}: {exc}")
        text, found = cut_at_stop(text, params.stop)
        usage = res.get("usage") or {}
        return Generation(text=text,
                          finish_reason="length" if choice.get("finish_reason") == "length" and not found else "stop",
                          prompt_tokens=int(usage.get("prompt_tokens", 0)) if sample == 0 else 0,
                          completion_tokens=int(usage.get("completion_tokens", 0)))

    def generate(self, prompts: list[str], params: SamplingParams) -> list[Generation]:
        """n completions per prompt, grouped in prompt order; the copy penalty's logit bias
        (`penalty_bias`: it depends on `params` only) is computed once for the call."""
        bias = penalty_bias(lambda text: self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=False),
                            params)
        if self.parallel > 1:
            return [g for p in prompts for g in self._together(p, params, bias)]
        return [self._one(p, params, k, bias) for p in prompts for k in range(params.n)]

    def _together(self, prompt: str, params: SamplingParams, bias: dict[int, float]) -> list[Generation]:
        """The n samples of `prompt`, decoded `parallel` at a time (llamacpp_parallel)."""
        # no run seed: sample k still gets its own stream (as seed 0 would), never n copies of one
        seeds = [sample_seed(params.seed or 0, k, prompt) for k in range(params.n)]
        try:
            with self._lock:
                llm = self.llm
                tokens = self._prompt_tokens(prompt)
                keep = aligned_prefix(llm.input_ids[:llm.n_tokens], llm.reusable, tokens, llm.n_batch)
                llm.reusable = 0  # until the prompt is in the cache
                outs = llamacpp_parallel.generate(llm, tokens, keep, params, seeds,
                                                  self._grammar(params.json_schema), bias, self.parallel)
                llm.reusable, llm.reused_tokens = len(tokens), llm.reused_tokens + keep
        except Exception as exc:  # e.g. prompt longer than n_ctx: counted, never a crash
            return [Generation(text="", finish_reason="error", error=f"{type(exc).__name__}: {exc}")
                    for _ in range(params.n)]
        gens = []
        for k, (raw, finish, n_out) in enumerate(outs):
            text, found = cut_at_stop(raw, params.stop)
            gens.append(Generation(text=text, finish_reason="length" if finish == "length" and not found else "stop",
                                   prompt_tokens=len(tokens) if k == 0 else 0, completion_tokens=n_out))
        return gens

    def _prompt_tokens(self, prompt: str) -> list[int]:
        """The tokens llama-cpp-python would generate from for `prompt` (the chat template
        applied for `api: chat`): its completion call is stopped where it starts generating."""
        self.llm.capture = True
        try:
            if self.cfg.api == "chat":
                self.llm.create_chat_completion(messages=[{"role": "user", "content": prompt}], max_tokens=1)
            else:
                self.llm.create_completion(prompt=prompt, max_tokens=1)
        except _Captured as got:
            return got.tokens
        finally:
            self.llm.capture = False
        raise RuntimeError("llama-cpp-python completed without generating")

    def next_token_logprobs(self, prompts: list[str], token_ids: list[int]) -> list[list[float]]:
        """Log-probabilities of `token_ids` as the next token after each raw prompt (the LLM
        judge's yes / no). The prompt's KV cache is kept between calls, so prompts that share a
        prefix (same instruction, same passage) evaluate only what differs."""
        import numpy as np
        import llama_cpp

        out = []
        with self._lock:
            llm = self.llm
            llm.reusable = 0  # unaligned evaluations below: no generation may reuse these blocks
            for prompt in prompts:
                tokens = llm.tokenize(prompt.encode("utf-8"), add_bos=True, special=False)
                tokens = tokens[-(llm.n_ctx() - 1):]
                same = common_prefix(llm.input_ids, tokens, min(llm.n_tokens, len(tokens) - 1))
                llm.n_tokens = same  # eval() drops the KV cache beyond the shared prefix
                llm.eval(tokens[same:])
                logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(llm._ctx.ctx, -1),
                                               shape=(llm.n_vocab(),)).astype(np.float64)
                logz = float(np.log(np.exp(logits - logits.max()).sum()) + logits.max())
                out.append([float(logits[t] - logz) for t in token_ids])
        return out

    def first_token(self, word: str) -> int:
        """The id of the first token of `word` (no BOS)."""
        return int(self.llm.tokenize(word.encode("utf-8"), add_bos=False, special=False)[0])


class _Captured(Exception):
    """Raised by BlockLlama.generate in capture mode: the prompt tokens it was given."""

    def __init__(self, tokens: Sequence[int]) -> None:
        super().__init__("captured")
        self.tokens = list(tokens)


def _block_llama(Llama: type) -> type:
    """`Llama` whose `generate` first rewinds the KV cache to `aligned_prefix` when
    `align_next` is set (a prompt's first sample); `reused_tokens` counts the prompt tokens
    taken from the cache that way. With `capture` set it raises _Captured(tokens) instead."""

    class BlockLlama(Llama):  # type: ignore[misc, valid-type]
        align_next = False
        capture = False
        reusable = 0
        reused_tokens = 0

        def generate(self, tokens: Sequence[int], *args: Any, **kwargs: Any) -> Any:
            if self.capture:
                raise _Captured(tokens)
            if self.align_next:
                self.align_next = False
                tokens = list(tokens)
                keep = aligned_prefix(self.input_ids[:self.n_tokens], self.reusable, tokens, self.n_batch)
                self.reset()  # Llama.generate then keeps the first `keep` cached tokens, evaluates the rest
                self.n_tokens = keep
                self.reused_tokens += keep
                self.reusable = len(tokens) - 1
            return super().generate(tokens, *args, **kwargs)

    return BlockLlama


SMOKE = ("import sys\nfrom llama_cpp import Llama\n"
         "llm = Llama(model_path=sys.argv[1], n_ctx=64, n_threads=1, verbose=False)\n"
         "llm.create_completion(prompt='Hello', max_tokens=2, temperature=0.0)\n")


def smoke_check(path: str, timeout_s: float = 300.0) -> str | None:
    """Load the GGUF at `path` with llama.cpp and decode 2 tokens, in a child process (a build
    for instructions the CPU does not run kills its process with SIGILL, which no try/except
    catches). Returns None when it works, else a one-line reason with the fix. Run by `synthir
    setup`, so `make install` fails early and clearly instead of the first generation run."""
    import signal
    import subprocess
    import sys

    try:
        res = subprocess.run([sys.executable, "-c", SMOKE, path], capture_output=True, text=True,
                             timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return f"llama.cpp did not decode 2 tokens in {timeout_s:.0f} s"
    if res.returncode == -signal.SIGILL:
        return ("llama.cpp was compiled for CPU instructions this machine does not run (Illegal "
                "instruction); rebuild it portable: CMAKE_ARGS=\"-DGGML_NATIVE=OFF -DGGML_AVX2=ON "
                "-DGGML_FMA=ON -DGGML_F16C=ON\" pip install --no-cache-dir --force-reinstall --no-deps "
                "llama-cpp-python==0.3.36")
    if res.returncode != 0:
        last = (res.stderr.strip().splitlines() or [f"exit status {res.returncode}"])[-1]
        return f"llama.cpp failed to decode: {last}"
    return None
