"""The llamacpp backend's samples of one prompt decoded together (synthir.llm.llamacpp_parallel),
on the real embedded Gemma: valid structured output through the grammar check, groups smaller
than n when the cache has no room, reproducible groups, a failed prompt that leaves the next
one unharmed, and the one-at-a-time path still there (`parallel_samples: 1`)."""

from __future__ import annotations

import json

import pytest

from data_schemas.config import LLMConfig
from synthir.llm.base import SamplingParams

SCHEMA = json.dumps({"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]},
                    sort_keys=True)
PROMPT = ("Write a search query for the passage. Answer with a JSON object {\"query\": \"...\"}.\n\n"
          "Passage: The Danube flows through ten countries and four capital cities.\nAnswer:")


def _llm(**kw):
    pytest.importorskip("llama_cpp")
    from synthir.llm.llamacpp_backend import LlamaCppLLM

    return LlamaCppLLM(LLMConfig(backend="llamacpp", model="embedded", threads=2,
                                 **{"context_length": 512, **kw}))


def test_group_size_fits_the_cache() -> None:
    from synthir.llm.llamacpp_parallel import group_size

    assert group_size(8, 8, 4096, 1300, 32) == 8
    assert group_size(8, 3, 4096, 1300, 32) == 3  # never more than n
    assert group_size(8, 8, 512, 400, 32) == 3  # 112 free cells hold 3 samples of 32 tokens
    assert group_size(8, 8, 512, 500, 32) == 1  # no room: one at a time, never 0
    assert group_size(1, 8, 4096, 10, 32) == 1


def test_structured_samples_decoded_together_all_parse() -> None:
    """With the grammar checked per drawn token, every sample that ends is a JSON object with
    a string `query` (and at least half of 8 end in 64 tokens), as with the grammar applied to the whole
    vocabulary one at a time."""
    params = SamplingParams(temperature=0.8, top_p=0.95, max_tokens=64, seed=3, n=8, json_schema=SCHEMA)
    for llm in (_llm(), _llm(parallel_samples=1)):
        gens = llm.generate([PROMPT], params)
        assert len(gens) == 8
        ended = [g for g in gens if g.finish_reason == "stop"]
        assert len(ended) >= 4, (llm.parallel, gens)
        for g in ended:
            assert isinstance(json.loads(g.text)["query"], str)
        assert all(g.text.startswith('{"query": "') for g in gens)
        assert gens[0].prompt_tokens > 0 and all(g.prompt_tokens == 0 for g in gens[1:])
        assert all(g.completion_tokens > 0 for g in gens)


def test_the_grammar_check_rejects_what_the_grammar_forbids() -> None:
    from synthir.llm.gbnf import schema_to_gbnf
    from synthir.llm.llamacpp_parallel import allowed, make_sample
    from llama_cpp import LlamaGrammar

    llm = _llm()
    grammar = LlamaGrammar.from_string(schema_to_gbnf(SCHEMA), verbose=False)
    sample = make_sample(llm.llm, 0, SamplingParams(temperature=0.8, top_p=0.95), 1, grammar, {})
    first = lambda text: llm.llm.tokenize(text.encode("utf-8"), add_bos=False, special=False)[0]  # noqa: E731
    assert allowed(sample, first("{"))
    assert not allowed(sample, first("Hello"))
    sample.close()


def test_groups_are_reproducible_and_cover_n() -> None:
    """A 256-token context with a ~40-token prompt and 32-token samples decodes 8 samples in
    the groups the cache has room for (6, then 2); two fresh models give the same 8 texts, and
    the same model gives them again after another prompt."""
    from synthir.llm.llamacpp_parallel import group_size

    params = SamplingParams(temperature=0.9, top_p=0.95, max_tokens=32, stop=("\n",), seed=7, n=8)
    a, b = _llm(context_length=256), _llm(context_length=256)
    first_gens = a.generate([PROMPT], params)
    assert group_size(8, 8, 256, first_gens[0].prompt_tokens, 32) < 8  # more than one group
    first = [g.text for g in first_gens]
    assert len(first) == 8 and len(set(first)) > 1
    assert [g.text for g in b.generate([PROMPT], params)] == first
    a.generate(["Passage: Rome is the capital of Italy.\nQuery:"], params)
    assert [g.text for g in a.generate([PROMPT], params)] == first


def test_a_prompt_too_long_fails_alone() -> None:
    params = SamplingParams(temperature=0.8, top_p=0.95, max_tokens=8, seed=1, n=4)
    llm = _llm(context_length=256)
    expected = [g.text for g in _llm(context_length=256).generate([PROMPT], params)]
    gens = llm.generate(["word " * 400, PROMPT], params)
    assert [g.finish_reason for g in gens[:4]] == ["error"] * 4
    assert "exceed context window" in (gens[0].error or "")
    assert [g.text for g in gens[4:]] == expected
    assert all(g.finish_reason in ("stop", "length") for g in gens[4:])


def test_without_a_seed_the_samples_still_differ() -> None:
    """No run seed (a caller of the LLM protocol, not the pipeline): each sample gets its own
    random stream, not n copies of one."""
    params = SamplingParams(temperature=1.0, top_p=0.95, max_tokens=12, stop=("\n",), n=6)
    texts = [g.text for g in _llm().generate([PROMPT], params)]
    assert len(set(texts)) > 1
