"""Diversity controls (query_types, lengths, difficulties, personas) of the query generators."""

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest

from data_schemas.config import GenerationConfig, LLMConfig, QueryMethodConfig
from data_schemas.records import Passage, QueryRecord, Rejected
from synthir.errors import ConfigError
from synthir.generators.queries import QueryGenerator
from synthir.llm.base import Generation
from synthir.prompting import PromptLibrary

PROMPTS = Path(__file__).resolve().parents[3] / "prompts"
TYPES = ["keyword", "question", "claim", "long_tail"]
PERSONAS = ["a curious high-school student", "a retired ship engineer"]
TOPICS = ["volcanoes", "glaciers", "honeybees", "lighthouses", "comets", "coral reefs", "tea",
          "violins", "windmills", "salmon", "deserts", "bridges", "owls", "copper", "tides",
          "maple trees", "submarines", "penguins", "clocks", "silk"]
PASSAGES = [Passage(id=f"en:{t.replace(' ', '_')}", lang="en",
                    text=f"This passage describes {t} and how {t} were studied by scientists over "
                         f"many centuries in different countries.") for t in TOPICS]
TYPE_TEXT = {"keyword": "a few keywords, no verb and no question mark",
             "question": "a natural question ending with a question mark",
             "claim": "a statement of a fact that the passage supports",
             "long_tail": "a specific, detailed, rarely asked information need"}


def method(**kw):
    base = dict(query_types=TYPES, lengths=["short", "medium", "long"],
                difficulties=["easy", "hard"], personas=PERSONAS)
    base.update(kw)
    return QueryMethodConfig(**base)


def make(seed=7, **kw):
    return QueryGenerator(method(**kw), GenerationConfig(), LLMConfig(), ["en", "fr"], seed=seed)


@pytest.fixture(scope="module")
def gen():
    return make()


@pytest.fixture(scope="module")
def items(gen):
    return gen.build_prompts(PASSAGES, ["en", "fr"])


def find(items, **attrs):
    found = [i for i in items if all(i.attributes.get(k) == v for k, v in attrs.items())]
    assert found, f"no prompt drew {attrs} (seeded draw changed?)"
    return found[0]


def parse(gen, item, text):
    return gen.parse(item, Generation(text=text, finish_reason="stop"), "scripted", "scripted-model")


# --- drawing -------------------------------------------------------------------------------

def test_every_prompt_draws_one_value_per_control(items):
    assert len(items) == 40
    for i in items:
        assert set(i.attributes) == {"query_type", "length", "difficulty", "persona"}
        assert i.attributes["query_type"] in TYPES
        assert i.attributes["length"] in ("short", "medium", "long")
        assert i.attributes["difficulty"] in ("easy", "hard")
        assert i.attributes["persona"] in PERSONAS


def test_draws_are_deterministic_and_order_independent(gen, items):
    by_key = {(i.passage.id, i.lang): i.attributes for i in items}
    again = make().build_prompts(list(reversed(PASSAGES)), ["fr", "en"])
    assert {(i.passage.id, i.lang): i.attributes for i in again} == by_key
    # one passage alone gets the same draw as inside the batch
    alone = gen.build_prompts([PASSAGES[5]], ["fr"])[0]
    assert alone.attributes == by_key[(PASSAGES[5].id, "fr")]
    assert alone.prompt_id == next(i.prompt_id for i in items
                                   if i.passage.id == PASSAGES[5].id and i.lang == "fr")


def test_draws_vary_across_passages_and_seeds(items):
    types = Counter(i.attributes["query_type"] for i in items)
    assert len(types) > 1
    assert len({i.attributes["persona"] for i in items}) == 2
    assert len({i.attributes["length"] for i in items}) > 1
    other = make(seed=8).build_prompts(PASSAGES, ["en", "fr"])
    assert [i.attributes for i in other] != [i.attributes for i in items]


def test_controls_are_rendered_into_the_prompt(items):
    for i in items:
        a = i.attributes
        assert f"Query type: {TYPE_TEXT[a['query_type']]}.\n" in i.text
        assert f"The query is written by {a['persona']}.\n" in i.text
        assert ("Difficulty: easy:" in i.text) == (a["difficulty"] == "easy")
        assert ("Difficulty: hard:" in i.text) == (a["difficulty"] == "hard")
        assert "Query length: " in i.text
        lang_name = "English" if i.lang == "en" else "French"
        label = f"{lang_name} search query ({a['query_type'].replace('_', ' ')}):"
        assert i.text.rstrip().endswith(label)
    kw = next(i for i in items if i.attributes["query_type"] == "keyword" and i.lang == "en")
    assert kw.text.rstrip().endswith("English search query (keyword):")
    lt = next(i for i in items if i.attributes["query_type"] == "long_tail")
    assert "search query (long tail):" in lt.text
    short = find(items, length="short")
    assert "Query length: short (up to 6 words).\n" in short.text


def test_only_examples_of_the_drawn_type_are_included(gen, items):
    for i in items:
        rows = gen.examples[i.lang]
        same = [r for r in rows if r["type"] == i.attributes["query_type"]]
        others = [r for r in rows if r["type"] != i.attributes["query_type"]]
        assert len(same) >= 3
        for r in same[:3]:
            assert r["query"] in i.text
        for r in others:
            assert r["query"] not in i.text
        assert i.text.count("Passage:") == 4


def test_typed_examples_dir_is_the_default_with_query_types(gen):
    assert gen.examples_dir == "query/typed_examples"
    assert set(gen.files()) == {"query/promptagator.j2", "query/typed_examples/en.jsonl",
                                "query/typed_examples/fr.jsonl"}


# --- parse: attributes recorded and checked --------------------------------------------------

def test_attributes_are_recorded_on_the_query(gen, items):
    item = find(items, query_type="question", length="medium")
    rec = parse(gen, item, " How long did scientists study this topic?")
    assert isinstance(rec, QueryRecord)
    assert rec.attributes == item.attributes
    assert rec.attributes["query_type"] == "question" and rec.attributes["length"] == "medium"
    assert rec.attributes["persona"] in PERSONAS


@pytest.mark.parametrize("attrs,query,detail", [
    ({"query_type": "keyword"}, " scientists study history?", "question mark"),
    ({"query_type": "keyword", "length": "long"},
     " scientists study history across many countries and many long centuries", "10 words"),
    ({"query_type": "question"}, " how scientists studied this topic", "without a question mark"),
    ({"query_type": "claim"}, " Scientists studied this topic for centuries?", "claim ends"),
    ({"query_type": "long_tail"}, " scientists study history", "3 words"),
])
def test_type_mismatch(gen, items, attrs, query, detail):
    res = parse(gen, find(items, **attrs), query)
    assert isinstance(res, Rejected)
    assert res.reason == "type_mismatch" and res.stage == "parse"
    assert detail in res.detail


@pytest.mark.parametrize("qtype,query", [
    ("keyword", " scientists study history"),
    ("question", " Did scientists study this topic?"),
    ("claim", " Scientists studied this topic for centuries."),
    ("long_tail", " which countries studied this topic during the earliest centuries"),
])
def test_matching_type_passes_the_type_check(gen, items, qtype, query):
    # pick a prompt whose drawn length fits the query, so only the type is under test
    n = len(query.split())
    length = "short" if n <= 6 else "long"
    res = parse(gen, find(items, query_type=qtype, length=length), query)
    assert isinstance(res, QueryRecord), getattr(res, "detail", res)
    assert res.attributes["query_type"] == qtype


def test_length_mismatch(gen, items):
    item = find(items, query_type="claim", length="short")
    res = parse(gen, item, " Scientists in many countries studied this topic for centuries")
    assert isinstance(res, Rejected)
    assert res.reason == "length_mismatch"
    assert res.detail == "short query of 9 words (1-6)"
    ok = parse(gen, item, " Scientists studied this topic.")
    assert isinstance(ok, QueryRecord)


# --- config errors -------------------------------------------------------------------------

@pytest.fixture()
def question_only_prompts(tmp_path):
    root = tmp_path / "prompts"
    shutil.copytree(PROMPTS, root)
    for lang in ("en", "fr"):
        path = root / "query" / "typed_examples" / f"{lang}.jsonl"
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n"
                                for r in rows if r["type"] == "question"), encoding="utf-8")
    return root


def test_missing_example_type_is_a_config_error(question_only_prompts):
    lib = PromptLibrary(question_only_prompts)
    with pytest.raises(ConfigError, match=r"no example of query type\(s\) \['keyword', 'claim'\]"):
        QueryGenerator(QueryMethodConfig(query_types=["keyword", "question", "claim"]),
                       GenerationConfig(), LLMConfig(), ["en", "fr"], seed=7, library=lib)
    # the types that are there are fine
    g = QueryGenerator(QueryMethodConfig(query_types=["question"]), GenerationConfig(), LLMConfig(),
                       ["en", "fr"], seed=7, library=lib)
    assert all(r["type"] == "question" for r in g.examples["en"])
    # with no examples asked for, missing types do not matter
    QueryGenerator(QueryMethodConfig(query_types=TYPES, num_examples=0), GenerationConfig(),
                   LLMConfig(), ["en", "fr"], seed=7, library=lib)


def test_examples_without_type_field_are_a_config_error(tmp_path):
    root = tmp_path / "prompts"
    shutil.copytree(PROMPTS, root)
    (root / "query" / "typed_examples" / "en.jsonl").write_text(
        json.dumps({"passage": "A passage.", "query": "a query"}) + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"rows \[1\] need string fields"):
        QueryGenerator(QueryMethodConfig(query_types=["keyword"]), GenerationConfig(), LLMConfig(),
                       ["en"], seed=7, library=PromptLibrary(root))
