"""Chat answers read down to the query: preambles, labels, quotes, bullets and markdown are
removed; real answers of the packaged instruct model (tests/fixtures/chat_raw_outputs.jsonl,
recorded by scripts/record_chat_outputs.py) all yield a clean one-line query."""

import json
from pathlib import Path

import pytest

from data_schemas.config import GenerationConfig, LLMConfig, QueryMethodConfig
from data_schemas.records import Passage, QueryRecord, Rejected
from synthir.generators.chat import chat_answer
from synthir.generators.queries import QueryGenerator
from synthir.llm.base import Generation

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "chat_raw_outputs.jsonl"


@pytest.mark.parametrize("raw, query", [
    ("La recherche query pour répondre à cette passage est :\nfleuve le plus long d'Afrique", "fleuve le plus long d'Afrique"),
    ("Query: longest river in Africa", "longest river in Africa"),
    ("Requête : plus long fleuve d'Afrique", "plus long fleuve d'Afrique"),
    ("**Suchanfrage:** längster Fluss Afrikas\n\nDiese Anfrage passt, weil ...", "längster Fluss Afrikas"),
    ('"longest river in Africa"', "longest river in Africa"),
    ("- longest river in Africa", "longest river in Africa"),
    ("Here is a search query for this passage:\n\n1. `nile river length`", "nile river length"),
    ("Python: how to sort a list", "Python: how to sort a list"),  # a colon inside a query stays
    ("   \n  ", ""),
])
def test_chat_answer(raw, query):
    assert chat_answer(raw)[0] == query


def _gen(**llm):
    return QueryGenerator(QueryMethodConfig(num_examples=2), GenerationConfig(),
                          LLMConfig(api="chat", **llm), ["fr"], seed=1)


def test_chat_prompts_get_room_and_read_past_the_preamble():
    gen = _gen(max_new_tokens=32)
    params = gen.sampling_params()
    assert params.max_tokens == 64 and "\n" not in params.stop
    p = Passage(id="p", lang="fr", text="Le Nil est un fleuve d'Afrique long de 6 650 km.")
    item = gen.build_prompts([p], ["fr"])[0]
    rec = gen.parse(item, Generation(text="Voici la requête :\n« longueur du Nil »\n", finish_reason="stop"),
                    "b", "m")
    assert isinstance(rec, QueryRecord) and rec.query == "longueur du Nil"
    cut = gen.parse(item, Generation(text="Voici la requête :\nlongueur du", finish_reason="length"), "b", "m")
    assert isinstance(cut, Rejected) and cut.reason == "truncated"


def test_real_instruct_outputs_become_clean_queries():
    rows = [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines()]
    assert len(rows) >= 30 and all(r["model"].startswith("qwen2.5-coder-0.5b-instruct") for r in rows)
    gen = _gen(max_new_tokens=32)
    p = Passage(id="p", lang="fr", text="Un passage quelconque.")
    item = gen.build_prompts([p], ["fr"])[0]
    outcomes = []
    for r in rows:
        query, _ = chat_answer(r["raw"])
        assert query and "\n" not in query and not query.endswith((":", "：")), r["raw"]
        assert not query.lower().startswith(("query:", "requête", "suchanfrage", "search query")), r["raw"]
        assert query[:1] not in "\"'«“*-`#", r["raw"]
        res = gen.parse(item, Generation(text=r["raw"], finish_reason=r["finish_reason"]), "b", "m")
        outcomes.append("kept" if isinstance(res, QueryRecord) else res.reason)
    # the 0.5B model often restates the passage instead of asking: the parser says so, per answer
    assert set(outcomes) <= {"kept", "truncated", "too_long", "wrong_language", "copied_example",
                             "copied_from_passage", "template_leak", "too_short"}, outcomes
