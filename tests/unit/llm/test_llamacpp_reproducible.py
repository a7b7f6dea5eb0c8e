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


def test_aligned_prefix_takes_whole_shared_blocks_only() -> None:
    pytest.importorskip("llama_cpp")
    from synthir.llm.llamacpp_backend import aligned_prefix

    cached = list(range(100))
    assert aligned_prefix(cached, 99, list(range(100)) + [7], 16) == 96  # 99 shared -> 6 blocks
    assert aligned_prefix(cached, 99, list(range(40)) + [-1] * 60, 16) == 32  # differs at 40
    assert aligned_prefix(cached, 20, list(range(100)), 16) == 16  # the previous prompt's cells end at 20
    assert aligned_prefix(cached, 99, list(range(33)), 16) == 32  # never the prompt's last token
    assert aligned_prefix(cached, 99, list(range(32)), 16) == 16
    assert aligned_prefix(cached, 0, list(range(100)), 16) == 0  # nothing reusable (judge, error)
    assert aligned_prefix([], 99, list(range(100)), 16) == 0


def _last_logits(llm, prompt: str) -> "np.ndarray":
    """The logits after the prompt's last token: a 1-token greedy completion leaves them in
    the context (the sampled token is never evaluated)."""
    import numpy as np
    import llama_cpp

    llm.generate([prompt], SamplingParams(temperature=0.0, max_tokens=1, n=1))
    return np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(llm.llm._ctx.ctx, -1),
                                 shape=(llm.llm.n_vocab(),)).copy()


def test_shared_blocks_are_reused_and_samples_stay_the_same() -> None:
    """Prompt blocks of 32 tokens: prompts with the same examples in the same order share
    several whole blocks, which the second prompt takes from the cache; its logits are
    bit-identical to a fresh model's that evaluates it from an empty cache, and so are its
    samples. (Here an unaligned reuse happened to give the same logits too; the whole-block
    count is what pins the alignment.)"""
    pytest.importorskip("llama_cpp")
    import numpy as np
    from synthir.llm.llamacpp_backend import LlamaCppLLM

    cfg = LLMConfig(backend="llamacpp", model="embedded", threads=2, context_length=1024, prompt_block=32)
    params = SamplingParams(temperature=0.8, top_p=0.95, max_tokens=16, stop=("\n",), seed=5, n=3)
    target = _few_shot("The Danube flows through ten countries and four capital cities.", [0, 1, 2, 3])
    other = _few_shot("Gustave Flaubert was a French novelist.", [0, 1, 2, 3])  # same examples, same order
    warm, fresh = LlamaCppLLM(cfg), LlamaCppLLM(cfg)
    warm.generate([other], params)
    before = warm.llm.reused_tokens
    warm_logits = _last_logits(warm, target)
    reused = warm.llm.reused_tokens - before
    n_target = len(warm.llm.tokenize(target.encode("utf-8"), add_bos=True, special=False))
    assert reused >= 5 * 32 and reused % 32 == 0 and reused < n_target  # most of the prompt came from the cache
    assert np.array_equal(warm_logits, _last_logits(fresh, target))
    warm.generate([other], params)
    after_other = [g.text for g in warm.generate([target], params)]
    assert after_other == [g.text for g in LlamaCppLLM(cfg).generate([target], params)]
