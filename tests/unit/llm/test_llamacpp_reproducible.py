"""The in-process llama.cpp backend gives a prompt the same samples whatever ran before it
(real embedded Gemma): a run resumed after a kill, or split into other shards, writes the same
queries for the same (prompt, seed)."""

from __future__ import annotations

import json

import pytest

from data_schemas.config import LLMConfig
from synthir.llm.base import SamplingParams
from tests.conftest import REPO


def _few_shot(passage: str, order: list[int]) -> str:
    """A ~300-token few-shot prompt; prompts with another example order share only the header."""
    rows = [json.loads(line) for line in (REPO / "prompts/query/examples/en.jsonl").read_text().splitlines()]
    text = "Write a search query that a user would type to find the passage.\n\n"
    for i in order:
        text += f"Passage: {rows[i]['passage']}\nQuery: {rows[i]['query']}\n\n"
    return text + f"Passage: {passage}\nQuery:"


def test_samples_do_not_depend_on_the_previous_prompt() -> None:
    pytest.importorskip("llama_cpp")
    from synthir.llm.llamacpp_backend import LlamaCppLLM

    llm = LlamaCppLLM(LLMConfig(backend="llamacpp", model="embedded", threads=2, context_length=1024))
    params = SamplingParams(temperature=0.8, top_p=0.95, max_tokens=16, stop=("\n",), seed=11, n=4)
    target = _few_shot("Gustave Flaubert was a French novelist, considered the leading exponent of "
                       "literary realism in his country. He is known for his debut novel Madame Bovary.",
                       [0, 1, 2, 3])
    other = _few_shot("The Nile is the longest river in Africa.", [0, 4, 5, 6])  # shares the header + 1st example
    first = [g.text for g in llm.generate([target], params)]
    after_other = [g.text for g in llm.generate([other, target], params)][params.n:]
    again = [g.text for g in llm.generate([target], params)]  # the cache now holds this very prompt
    assert after_other == first
    assert again == first
