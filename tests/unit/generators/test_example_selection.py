"""Few-shot examples drawn per prompt (Promptagator): seeded and stable, different across
passages, never an example whose passage is near the prompt's passage; ids in provenance."""

from data_schemas.config import GenerationConfig, LLMConfig, QueryMethodConfig
from data_schemas.records import Passage, QueryRecord
from synthir.generators.queries import QueryGenerator, example_id
from synthir.llm.base import Generation


def _gen(**method):
    return QueryGenerator(QueryMethodConfig(num_examples=3, example_selection="sample", **method), GenerationConfig(),
                          LLMConfig(max_new_tokens=32), ["en"], seed=7)


def _passages(n: int) -> list[Passage]:
    return [Passage(id=f"p{i}", lang="en", text=f"Passage number {i} about a topic of its own, number {i}.")
            for i in range(n)]


def test_each_prompt_draws_its_own_seeded_examples():
    gen = _gen()
    items = gen.build_prompts(_passages(12), ["en"])
    draws = [i.examples for i in items]
    assert all(len(d) == 3 and len(set(d)) == 3 for d in draws)
    assert len(set(draws)) > 3  # not the same three examples for every passage
    assert [i.examples for i in _gen().build_prompts(_passages(12), ["en"])] == draws  # seeded
    pool = {example_id(e): e for e in gen.examples["en"]}
    for item in items:  # the drawn examples are the ones in the prompt text
        assert all(f"Passage: {pool[x]['passage']}" in item.text for x in item.examples)
    rec = gen.parse(items[0], Generation(text=" a real query about it\n", finish_reason="stop"), "b", "m")
    assert isinstance(rec, QueryRecord) and rec.provenance.examples == list(items[0].examples)


def test_examples_near_the_passage_are_never_shown():
    gen = _gen()
    pool = gen.examples["en"]
    target = Passage(id="t", lang="en", text=pool[0]["passage"])  # the same text as a pool example
    for seed_passage in range(5):
        item = gen.build_prompts([target.model_copy(update={"id": f"t{seed_passage}"})], ["en"])[0]
        assert example_id(pool[0]) not in item.examples and len(item.examples) == 3


def test_first_keeps_the_fixed_examples():
    gen = QueryGenerator(QueryMethodConfig(num_examples=3), GenerationConfig(), LLMConfig(max_new_tokens=32),
                         ["en"], seed=7)
    items = gen.build_prompts(_passages(4), ["en"])
    first = tuple(example_id(e) for e in gen.examples["en"][:3])
    assert all(i.examples == first for i in items)


def test_short_last_orders_the_same_draw_longest_query_first():
    drawn = _gen().build_prompts(_passages(12), ["en"])
    ordered = _gen(example_order="short_last").build_prompts(_passages(12), ["en"])
    pool = {example_id(e): e for e in _gen().examples["en"]}
    lengths = [[len(pool[x]["query"]) for x in i.examples] for i in ordered]
    assert all(ls == sorted(ls, reverse=True) for ls in lengths)  # the shortest query is right before the passage
    assert [set(i.examples) for i in ordered] == [set(i.examples) for i in drawn]  # same examples, other order
    assert any(a.examples != b.examples for a, b in zip(ordered, drawn, strict=True))
    for item in ordered:  # and the prompt text shows them in that order
        at = [item.text.index(f"Passage: {pool[x]['passage']}") for x in item.examples]
        assert at == sorted(at)
    for a, b in zip(ordered, drawn, strict=True):  # another order is another prompt (and cache key)
        assert (a.prompt_id == b.prompt_id) == (a.examples == b.examples)
