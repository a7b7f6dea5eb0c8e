"""SAP's in-domain example summaries (synthir.generators.summaries) with a scripted LLM: the
answer is read down to the summary, and an example without a usable one (failed call, cut off,
empty, another language) is a one-line InputError naming it, never a row left out."""

from __future__ import annotations

import json

import pytest

from data_schemas.config import LLMConfig, QueryMethodConfig, GenerationConfig
from synthir.errors import InputError
from synthir.generators.queries import QueryGenerator
from synthir.generators.summaries import summarize_examples, summary_of
from synthir.llm.base import Generation

ROWS = [{"passage": "Die Priorität eines Prozesses bestimmt den Anteil an Rechenzeit.", "query": "Was ist der Nice-Wert?",
         "lang": "de"},
        {"passage": "Le terminal affiche une invite de commande.", "query": "invite du terminal", "lang": "fr"}]


class Answers:
    """An LLM that answers prompt i with answers[i]; records the prompts and params."""

    def __init__(self, *answers: tuple[str, str]) -> None:
        self.answers, self.prompts, self.params = answers, [], None

    def generate(self, prompts, params):
        self.prompts, self.params = list(prompts), params
        return [Generation(text=t, finish_reason=f, error="boom" if f == "error" else None)
                for t, f in self.answers[:len(prompts)]]


@pytest.mark.parametrize("text, finish, api, want", [
    ("Die Priorität bestimmt die Rechenzeit.", "stop", "chat", ("Die Priorität bestimmt die Rechenzeit.", "")),
    ("Hier ist die Zusammenfassung:\n**Die Priorität bestimmt die Rechenzeit.**", "stop", "chat",
     ("Die Priorität bestimmt die Rechenzeit.", "")),
    (" Die Priorität bestimmt die Rechenzeit.\nPassage: x", "stop", "completion",
     ("Die Priorität bestimmt die Rechenzeit.", "")),
    ("Die Priorität bestimmt", "length", "chat", ("", "cut off at 96 tokens")),
    ("Résumé : Le terminal affiche une invite.", "stop", "chat", ("Le terminal affiche une invite.", "")),
    ("  \n ", "stop", "chat", ("", "the answer is empty")),
    ("", "error", "chat", ("", "the LLM call failed")),
])
def test_summary_of(text, finish, api, want):
    assert summary_of(text, finish, api) == want


def test_summaries_are_added_greedy_in_the_passage_language():
    llm = Answers(("Zusammenfassung:\nDie Priorität eines Prozesses legt seine Rechenzeit fest.", "stop"),
                  ("Le terminal affiche une invite où l'on tape des commandes.", "stop"))
    out = summarize_examples(ROWS, LLMConfig(api="chat"), llm)
    assert [r["summary"] for r in out] == ["Die Priorität eines Prozesses legt seine Rechenzeit fest.",
                                          "Le terminal affiche une invite où l'on tape des commandes."]
    assert all(r.items() >= row.items() and len(r["summary_prompt_sha256"]) == 64 for r, row in zip(out, ROWS))
    assert "in German" in llm.prompts[0] and "in French" in llm.prompts[1] and ROWS[1]["passage"] in llm.prompts[1]
    assert llm.params.temperature == 0.0 and llm.params.stop == ()
    # the rows now prompt SAP (which needs a summary on every example)
    sap = QueryGenerator(QueryMethodConfig(method="sap", num_examples=2), GenerationConfig(), LLMConfig(),
                         ["de"], seed=0, pool={"de": out[:1]})
    assert sap.examples["de"][0]["summary"] == out[0]["summary"]


@pytest.mark.parametrize("second, why", [
    (("The terminal shows a command prompt where you type commands.", "stop"), "expected fr"),
    (("Le terminal affiche", "length"), "cut off"),
    (("", "error"), r"the LLM call failed \(boom\)"),
])
def test_an_example_without_a_usable_summary_is_named(second, why):
    llm = Answers(("Die Priorität eines Prozesses legt seine Rechenzeit fest.", "stop"), second)
    with pytest.raises(InputError, match=rf"example 2 \('invite du terminal'\): no summary for SAP: .*{why}"):
        summarize_examples(ROWS, LLMConfig(api="chat"), llm)


def test_sap_without_summaries_is_a_config_error():
    from synthir.errors import ConfigError

    with pytest.raises(ConfigError, match=r"need string fields \['passage', 'query', 'summary'\]"):
        QueryGenerator(QueryMethodConfig(method="sap"), GenerationConfig(), LLMConfig(), ["de"], seed=0,
                       pool={"de": [dict(ROWS[0])]})


def test_summarize_file_needs_a_language_per_row(tmp_path):
    from data_schemas.config import RunConfig
    from synthir.generators.summaries import summarize_file

    path = tmp_path / "ex.jsonl"
    path.write_text(json.dumps({"passage": "p", "query": "q"}) + "\n", encoding="utf-8")
    cfg = RunConfig.model_validate({"corpus": {"path": str(path)}})
    with pytest.raises(InputError, match=r"ex.jsonl: rows \[1\] need string fields passage, query and lang"):
        summarize_file(path, cfg)


def test_an_unknown_language_code_is_a_one_line_error():
    with pytest.raises(InputError, match=r"^examples: .*xx"):
        summarize_examples([{**ROWS[0], "lang": "xx"}], LLMConfig(api="chat"), Answers())


def test_summarize_file_rewrites_the_examples_file(tmp_path, monkeypatch):
    from data_schemas.config import RunConfig
    from synthir.generators.summaries import summarize_file
    from synthir.llm import registry
    from synthir.prompting import read_examples

    path = tmp_path / "ex.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in ROWS), encoding="utf-8")
    llm = Answers(("Die Priorität eines Prozesses legt seine Rechenzeit fest.", "stop"),
                  ("Le terminal affiche une invite où l'on tape des commandes.", "stop"))
    monkeypatch.setattr(registry, "get_llm", lambda cfg: llm)
    cfg = RunConfig.model_validate({"corpus": {"path": str(path)}, "llm": {"api": "chat"}})
    rows = summarize_file(path, cfg)
    on_disk, _ = read_examples(path)
    assert on_disk == rows and [r["query"] for r in rows] == [r["query"] for r in ROWS]
    assert rows[1]["summary"] == "Le terminal affiche une invite où l'on tape des commandes."
