"""LLM backends behind one protocol. Backends are imported lazily through the registry,
so importing synthir never imports torch, vLLM or an HTTP client by accident."""

from synthir.llm.base import LLM, Generation, SamplingParams

__all__ = ["LLM", "Generation", "SamplingParams"]
