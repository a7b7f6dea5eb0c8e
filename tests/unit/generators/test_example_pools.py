"""Where the few-shot pool comes from (Promptagator: in-domain examples): the prompt library,
the user's `examples_file`, or the bootstrap pilot's pool; and chat answers constrained to
JSON where the backend can."""

import json

import pytest

from data_schemas.config import GenerationConfig, LLMConfig, QueryMethodConfig
from data_schemas.records import Passage, QueryRecord, Rejected
from synthir.errors import ConfigError
from synthir.generators.queries import QueryGenerator
from synthir.llm.base import Generation

P = Passage(id="p1", lang="en", text="The castle was built in 1420 by the duke and rebuilt after a fire.")


def _gen(llm: LLMConfig | None = None, pool=None, langs=("en",), **method) -> QueryGenerator:
    return QueryGenerator(QueryMethodConfig(num_examples=2, **method), GenerationConfig(),
                          llm or LLMConfig(max_new_tokens=32), list(langs), seed=1, pool=pool)


def _write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return str(path)


def test_examples_file_is_the_pool_per_language(tmp_path):
    f = _write(tmp_path / "mine.jsonl", [
        {"passage": "Our VPN needs the client 4.2.", "query": "which vpn client version", "lang": "en"},
        {"passage": "Le VPN demande le client 4.2.", "query": "quelle version du client vpn", "lang": "fr"},
        {"passage": "Badges open doors 7-19h.", "query": "badge door hours"}])  # no lang: every language
    gen = _gen(examples_file=f, langs=("en", "fr"))
    assert [r["query"] for r in gen.examples["en"]] == ["which vpn client version", "badge door hours"]
    assert [r["query"] for r in gen.examples["fr"]] == ["quelle version du client vpn", "badge door hours"]
    item = gen.build_prompts([P], ["en"])[0]
    assert "which vpn client version" in item.text and "badge door hours" in item.text
    assert "examples_file:mine.jsonl" in gen.files() and str(tmp_path) not in json.dumps(gen.files())
    rec = gen.parse(item, Generation(text=" which vpn client version\n", finish_reason="stop"), "b", "m")
    assert isinstance(rec, Rejected) and rec.reason == "copied_example"  # in-domain examples are not copied


def test_examples_file_errors_are_one_line(tmp_path):
    with pytest.raises(ConfigError, match="few-shot example file not found"):
        _gen(examples_file=str(tmp_path / "nope.jsonl"))
    many = _write(tmp_path / "many.jsonl", [{"passage": f"p {i}", "query": f"q {i}"} for i in range(9)])
    with pytest.raises(ConfigError, match="at most 8"):
        _gen(examples_file=many)
    fr_only = _write(tmp_path / "fr.jsonl", [{"passage": "x", "query": "y", "lang": "fr"}])
    with pytest.raises(ConfigError, match="no example for language en"):
        _gen(examples_file=fr_only)
    bad = _write(tmp_path / "bad.jsonl", [{"passage": "x"}])
    with pytest.raises(ConfigError, match="need string fields"):
        _gen(examples_file=bad)


def test_a_bootstrap_pool_replaces_the_library_pool_where_it_has_rows():
    pool = {"en": [{"id": "b1", "passage": "Invoices are due in 30 days.", "query": "invoice due date"}]}
    gen = _gen(pool=pool, langs=("en", "fr"), examples="bootstrap")
    assert gen.examples["en"] == pool["en"] and gen.pool_names["en"] == "bootstrap:promptagator/en"
    assert gen.pool_names["fr"] == "query/examples/fr.jsonl"  # pilot kept nothing in fr: the generic pool
    item = gen.build_prompts([P], ["en"])[0]
    assert item.examples == ("b1",) and "invoice due date" in item.text
    other = _gen(langs=("en",)).build_prompts([P], ["en"])[0]
    assert other.prompt_id != item.prompt_id  # a new pool is a new prompt (cache key)


def test_chat_on_a_constraining_backend_answers_json():
    chat = LLMConfig(backend="llamacpp", model="embedded-chat", api="chat", max_new_tokens=32)
    gen = _gen(llm=chat)
    assert gen.chat_json and gen.template.name == "query/promptagator_chat_json.j2"
    params = gen.sampling_params()
    assert json.loads(params.json_schema)["required"] == ["query"] and params.max_tokens >= 64
    item = gen.build_prompts([P], ["en"])[0]
    ok = gen.parse(item, Generation(text='{"query": "**when was the castle rebuilt**"}', finish_reason="stop"), "b", "m")
    assert isinstance(ok, QueryRecord) and ok.query == "when was the castle rebuilt"
    cut = gen.parse(item, Generation(text='{"query": "when was the cas', finish_reason="length"), "b", "m")
    assert isinstance(cut, Rejected) and cut.reason == "truncated"
    bad = gen.parse(item, Generation(text='{"q": 1}', finish_reason="stop"), "b", "m")
    assert isinstance(bad, Rejected) and bad.reason == "malformed"
    # transformers cannot constrain decoding, and structured_output: false opts out
    assert not _gen(llm=chat.model_copy(update={"backend": "transformers"})).chat_json
    plain = _gen(llm=chat.model_copy(update={"structured_output": False}))
    assert not plain.chat_json and plain.sampling_params().json_schema is None
    assert plain.template.name == "query/promptagator_chat.j2"


def test_retired_examples_are_never_shown_and_copies_of_them_are_still_rejected():
    src = "probed:query/examples/en.jsonl"
    pool = {"en": [{"id": "a", "passage": "Invoices are due in 30 days.", "query": "invoice due date", "source": src},
                   {"id": "b", "passage": "Badges open doors 7-19h.", "query": "badge door hours", "retired": True,
                    "source": src},
                   {"id": "c", "passage": "The VPN needs client 4.2.", "query": "which vpn client version",
                    "source": src}]}
    gen = _gen(pool=pool, example_selection="sample")
    assert [r["id"] for r in gen.examples["en"]] == ["a", "c"] and len(gen.copy_pool["en"]) == 3
    assert gen.pool_names["en"] == src
    item = gen.build_prompts([P], ["en"])[0]
    assert "badge door hours" not in item.text and set(item.examples) == {"a", "c"}
    rec = gen.parse(item, Generation(text=" badge door hours\n", finish_reason="stop"), "b", "m")
    assert isinstance(rec, Rejected) and rec.reason == "copied_example"
    assert gen.copy_of("badge door hours", "en")[0]["id"] == "b" and gen.copy_of("castle fire", "en") is None
