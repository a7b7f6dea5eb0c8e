"""benchmarks/judge_pages.py: the judge stage's prompt and parser over listed pages, with a
scripted LLM (the real 1.5B run is the benchmark's result, docs/results.md §8au)."""

from __future__ import annotations

import pytest

from data_schemas.config import JudgeConfig, LLMConfig
from synthir.generators.judge import ChatJudge
from synthir.llm.base import Generation

from tests.benchmark_scripts import load_benchmark

judge_pages = load_benchmark("judge_pages")
CORPUS = {"p14": "order 14, 3, 4", "p16": "order 16, 1, 2", "p15": "pad to 16 pages"}


class Scripted:
    """Grades 3 when the passage holds the query's first word, 2 otherwise; 'broken' fails."""

    def generate(self, prompts, params):
        out = []
        for p in prompts:
            query = p.split("Query: ")[1].split("\n")[0]
            passage = p.split("Passage: ")[1].split("\n")[0]
            if "broken" in passage:
                out.append(Generation(text="no verdict", finish_reason="stop"))
            else:
                out.append(Generation(text='{"grade": %d}' % (3 if query.split()[0] in passage else 2),
                                      finish_reason="stop"))
        return out


def _judge():
    return ChatJudge(JudgeConfig(), LLMConfig(backend="llamacpp", model="x", api="chat"), "x")


def test_grades_each_page_and_says_whether_one_is_singled_out():
    corpus = {**CORPUS, "bad": "broken page"}
    res = judge_pages.grade_cases(_judge(), Scripted(), corpus,
                                  [("16 pages", ["p14", "p16", "p15"]), ("print", ["p14", "p16", "bad"])])
    assert res[0]["grades"] == {"p14": 2, "p16": 3, "p15": 3} and res[0]["top"] == ["p16", "p15"]
    assert not res[0]["singled_out"]
    assert res[1]["grades"]["bad"] is None and res[1]["top"] == ["p14", "p16"]  # a failed verdict is no grade


def test_bad_cases_and_unknown_pages_stop_with_one_line():
    assert judge_pages.parse_case("Print a 14-page booklet=a, b") == ("Print a 14-page booklet", ["a", "b"])
    assert judge_pages.parse_case("x = y=a,b") == ("x = y", ["a", "b"])  # the last '=' splits
    for bad in ("no pages", "q=onlyone", "=a,b"):
        with pytest.raises(SystemExit, match="QUERY=PAGE_ID"):
            judge_pages.parse_case(bad)
    with pytest.raises(SystemExit, match="not in the corpus: nope"):
        judge_pages.grade_cases(_judge(), Scripted(), CORPUS, [("q", ["p14", "nope"])])
