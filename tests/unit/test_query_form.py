"""The query-form report: length and question share of the kept queries, next to the user's
in-domain examples (synthir.query_form), in funnel.json, the summary and the card."""

import json

import pytest

from synthir.query_form import describe, examples_forms, form
from tests.conftest import ONE_GREEDY_QUERY, demo_config
from tests.unit.test_stages_resume import ScriptedLLM


def test_form_counts_words_characters_and_question_marks():
    f = form(["Wie drucke ich eine Broschüre?", "Drucken", "  ", "", "打印文件？", "¿Cómo imprimo?"])
    assert f == {"n": 4, "words_mean": round((5 + 1 + 1 + 2) / 4, 2), "words_median": 1.5,
                 "chars_mean": round((30 + 7 + 5 + 14) / 4, 1), "question_share": 0.75}
    assert form(["", " "]) is None and form([]) is None
    assert describe(f) == '2.2 words (median 1.5), 14 chars, 75% end in "?"'


def _examples(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_examples_are_read_per_language_and_only_for_methods_that_have_a_file(wiki_corpus, tmp_path):
    ex = _examples(tmp_path / "ex.jsonl", [
        {"passage": "p1", "query": "Drucken", "lang": "de"},
        {"passage": "p2", "query": "Wie drucke ich?", "lang": "de"},
        {"passage": "p3", "query": "Imprimir un folleto", "lang": "es"},
        {"passage": "p4", "query": "Scan a page"},  # no lang: an example for every language
    ])
    cfg = demo_config(wiki_corpus, tmp_path / "out", **{"generation.queries[0].examples_file": ex})
    forms = examples_forms(cfg, ["promptagator/de", "promptagator/es", "sap/de"])
    assert set(forms) == {"promptagator/de", "promptagator/es"}  # sap has no examples_file
    assert forms["promptagator/de"]["n"] == 3 and forms["promptagator/de"]["question_share"] == pytest.approx(1 / 3, abs=1e-4)
    assert forms["promptagator/es"] == form(["Imprimir un folleto", "Scan a page"])
    ex.unlink()  # published elsewhere later: the report says so instead of failing
    assert examples_forms(cfg, ["promptagator/de"]) == {"promptagator/de": None}


def test_a_run_reports_the_form_of_its_kept_queries_beside_its_examples(wiki_corpus, tmp_path):
    """A real run (scripted LLM) publishes query_form in funnel.json: the kept queries counted
    there are the round trip's kept pairs, their form is theirs, and the summary and the card
    show it next to the examples_file's."""
    from synthir.pipeline import run_stages, start
    from synthir.report import summary_text
    from synthir.stages import STAGES

    ex = _examples(tmp_path / "ex.jsonl", [{"passage": "A passage.", "query": "how to print?", "lang": "en"},
                                           {"passage": "Another one.", "query": "printing", "lang": "en"}])
    cfg = demo_config(wiki_corpus, tmp_path / "out", **{"sample.n": 6, "shard_size": 6, "languages": "[en]",
                                                        "generation.queries[0].examples_file": ex,
                                                        "generation.queries[0].num_examples": 2,
                                                        **ONE_GREEDY_QUERY})
    result = run_stages(cfg, start(cfg), STAGES, llm=ScriptedLLM(flaky=False), progress=False)
    funnel = json.loads((tmp_path / "out" / "funnel.json").read_text(encoding="utf-8"))["funnel"]
    q = funnel["query_form"]["promptagator/en"]
    assert q["kept"]["n"] == funnel["passage_yield"]["promptagator/en"]["kept"] > 0
    assert q["kept"]["words_median"] == 3 and q["kept"]["question_share"] == 0  # ScriptedLLM: 3 words
    assert q["examples"] == form(["how to print?", "printing"])
    line = f"  form  promptagator/en: kept queries {describe(q['kept'])}; in-domain examples {describe(q['examples'])}"
    assert line in summary_text(result).splitlines()
    card = (tmp_path / "out" / "README.md").read_text(encoding="utf-8")
    assert f"| promptagator/en | {describe(q['kept'])} | {describe(q['examples'])} |" in card
