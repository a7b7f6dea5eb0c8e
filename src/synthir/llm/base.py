"""The LLM protocol: `generate(prompts, params) -> list[Generation]`.

A backend returns `len(prompts) * params.n` generations, grouped by prompt: the samples of
prompt i are at `[i * n, (i + 1) * n)`. With the default n=1 that is one per prompt, in order.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict


@dataclass(frozen=True)
class SamplingParams:
    """Portable sampling parameters; each backend maps them in a pure, unit-tested function.

    `json_schema` (a JSON Schema as a canonical JSON string, so the params stay hashable)
    asks for structured output: backends that can constrain decoding to it do (vLLM
    structured outputs, OpenAI `response_format`, llama.cpp grammars); the others ignore it
    and the parser's pydantic validation is the only guard.

    `logit_penalty` > 0 (with `avoid` and `allow`, the texts of ONE prompt) asks the backend to
    subtract it from the logits of every token of the `avoid` texts that is not a token of
    `allow` (`penalty_bias`): the few-shot queries shown in the prompt minus the passage's
    words, so a small model cannot copy an example (`copy_penalty`, docs/results.md §8o).
    Backends that take a logit bias: llamacpp (`LOGIT_BIAS_BACKENDS`).
    """

    temperature: float = 0.0
    top_p: float = 1.0
    max_tokens: int = 64
    stop: tuple[str, ...] = ()
    seed: int | None = None
    n: int = 1
    json_schema: str | None = None
    logit_penalty: float = 0.0
    avoid: tuple[str, ...] = ()
    allow: str = ""

    def __post_init__(self) -> None:
        if self.n < 1:
            raise ValueError("n must be >= 1")
        if self.max_tokens < 1:
            raise ValueError("max_tokens must be >= 1")

    def schema(self) -> dict[str, Any] | None:
        """The JSON schema as a dict (None when no structured output is asked)."""
        return json.loads(self.json_schema) if self.json_schema else None

    def as_dict(self) -> dict:
        """JSON-friendly dict (stop as a list), used in provenance and cache keys. Without a
        logit penalty the penalty keys are left out (keys of runs before it stay valid); with
        one, the prompt's `avoid` / `allow` texts appear as one sha256 (they are the prompt's
        own examples and passage)."""
        d = asdict(self)
        d["stop"] = list(self.stop)
        avoid, allow = d.pop("avoid"), d.pop("allow")
        if not self.logit_penalty:
            d.pop("logit_penalty")
        elif avoid or allow:
            d["avoid_sha256"] = hashlib.sha256(json.dumps([avoid, allow], ensure_ascii=False).encode()).hexdigest()
        if self.seed is not None:  # how each sample's backend seed is made (sample_seed)
            d["sample_seeds"] = SAMPLE_SEEDS
        return d


SAMPLE_SEEDS = "sha256(seed,k,prompt)"  # recorded in as_dict, so in cache keys and provenance


def sample_seed(seed: int, sample: int, prompt: str) -> int:
    """The backend seed of sample `sample` (k) of `prompt` under the run seed `seed`: the first
    31 bits of sha256("seed NUL k NUL prompt"), what llama.cpp and OpenAI-compatible servers
    accept. Reproducible, and unrelated across run seeds, samples and prompts.

    Until 2026-12-05 sample k got seed + k, for every prompt. Two flaws, both measured on the
    English GNOME help set 1 (8 samples a passage, the 1.5B generator): another run seed was
    not a fresh draw (seed 1 repeated 112 of 126 of seed 0's queries checked), and every prompt
    reused the same 8 random streams, so the pairs of streams that agree early agreed on every
    passage (samples 2 and 7 gave the same query for 42 of 94 passages): 28% of seed 0's parsed
    queries repeated another sample of their passage, against 17% with these seeds, which kept
    20% more pairs (docs/results.md §8av)."""
    h = hashlib.sha256(f"{seed}\x00{sample}\x00{prompt}".encode("utf-8")).digest()
    return int.from_bytes(h[:4], "big") & 0x7FFFFFFF


LOGIT_BIAS_BACKENDS = ("llamacpp",)  # backends that apply SamplingParams.logit_penalty


def penalty_bias(tokenize: Callable[[str], list[int]], params: SamplingParams) -> dict[int, float]:
    """{token id: -logit_penalty} for the tokens of `params.avoid` that are not tokens of
    `params.allow` (empty without a penalty). Each text is tokenized whole and word by word, with
    and without a leading space, so every way the model could spell a word is covered;
    `tokenize(text)` is the backend's tokenizer without BOS."""
    if not params.logit_penalty or not params.avoid:
        return {}

    def tokens(texts: Iterable[str]) -> set[int]:
        out: set[int] = set()
        for text in texts:
            for piece in (text, *re.findall(r"\w+", text)):
                out.update(tokenize(piece))
                out.update(tokenize(" " + piece))
        return out

    return {t: -params.logit_penalty for t in sorted(tokens(params.avoid) - tokens([params.allow]))}


def schema_json(schema: dict[str, Any]) -> str:
    """Compact JSON text of a schema, for `SamplingParams.json_schema` (property order is kept:
    it is the order in which the model writes the fields)."""
    return json.dumps(schema, ensure_ascii=False, separators=(",", ":"))  # key order matters


@dataclass(frozen=True)
class Generation:
    """One completion. `finish_reason`: stop (stop string / EOS), length (max_tokens hit),
    error (the call failed; `error` says why and `text` is empty)."""

    text: str
    finish_reason: Literal["stop", "length", "error"]
    prompt_tokens: int = 0
    completion_tokens: int = 0
    error: str | None = None
    cached: bool = field(default=False, compare=False)


def error_generations(n: int, message: str) -> list[Generation]:
    """`n` failed generations carrying `message` (a failed call is counted, never raised)."""
    return [Generation(text="", finish_reason="error", error=message) for _ in range(n)]


@runtime_checkable
class LLM(Protocol):
    """What every backend implements. `model_id` names the exact weights (provenance, cache)."""

    backend: str
    model_id: str

    def generate(self, prompts: list[str], params: SamplingParams) -> list[Generation]:
        """Return `params.n` Generations per prompt, grouped in prompt order; failures are
        Generation(finish_reason="error", error=...), never exceptions."""
        ...


def cut_at_stop(text: str, stop: tuple[str, ...]) -> tuple[str, bool]:
    """Cut `text` at the earliest stop string; return (text, whether a stop string was found)."""
    cut = min((i for i in (text.find(s) for s in stop if s) if i >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)


class BackendOptions(BaseModel):
    """A backend's own `llm.*` keys (each backend module declares `Options(BackendOptions)`;
    the other `llm.*` keys are common to every backend). `llm.backend` selects the class; a
    key set in the config that the selected backend does not take is a config error
    (synthir.llm.registry.check_options)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @classmethod
    def of(cls, cfg: Any) -> "BackendOptions":
        """This backend's options, read from the flat `llm` section (an LLMConfig)."""
        return cls.model_validate({k: getattr(cfg, k) for k in cls.model_fields})
