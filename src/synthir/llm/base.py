"""The LLM protocol: `generate(prompts, params) -> list[Generation]`, one per prompt, in order."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal, Protocol, runtime_checkable


@dataclass(frozen=True)
class SamplingParams:
    """Portable sampling parameters; each backend maps them in a pure, unit-tested function."""

    temperature: float = 0.0
    top_p: float = 1.0
    max_tokens: int = 64
    stop: tuple[str, ...] = ()
    seed: int | None = None

    def as_dict(self) -> dict:
        """JSON-friendly dict (stop as a list), used in provenance and cache keys."""
        d = asdict(self)
        d["stop"] = list(self.stop)
        return d


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


@runtime_checkable
class LLM(Protocol):
    """What every backend implements. `model_id` names the exact weights (provenance, cache)."""

    backend: str
    model_id: str

    def generate(self, prompts: list[str], params: SamplingParams) -> list[Generation]:
        """Return one Generation per prompt, in order; failures are Generation(error=...)."""
        ...
