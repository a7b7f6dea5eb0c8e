"""Can the packaged LLM judge tell near-identical pages apart? (the Gecko relabel's premise)

    .venv/bin/python benchmarks/judge_pages.py --devset BEIR_DIR --tag NAME \
        --case "QUERY=PAGE_ID,PAGE_ID,..." [--case ...] [--model embedded-instruct-1.5b] [--threads N]

Gecko (Lee et al., 2024) relabels a synthetic pair when an LLM grades a retrieved candidate
above the source. That can only fix a pair written for the wrong one of several near-identical
pages (evince's "print an N-page booklet" pages, docs/results.md §8r, §8ar) when the judge
grades the right page higher than its siblings. For each case this grades the query against
each listed page of the BEIR dir's corpus with the judge stage's own chat prompt, parser and
greedy, schema-constrained decoding (synthir.generators.judge.ChatJudge, `judge/graded.j2`),
and reports the grades and whether they single out one page. Writes
benchmarks/results/judge_pages-NAME.json (cases, grades, model, prompt sha256, seconds).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def parse_case(text: str) -> tuple[str, list[str]]:
    """"QUERY=ID,ID,..." -> (query, ids); SystemExit (one line) for any other shape."""
    query, sep, ids = text.rpartition("=")
    pages = [p.strip() for p in ids.split(",") if p.strip()]
    if not sep or not query.strip() or len(pages) < 2:
        raise SystemExit(f"--case {text!r}: expected 'QUERY=PAGE_ID,PAGE_ID[,...]' (two pages or more)")
    return query.strip(), pages


def grade_cases(judge: Any, llm: Any, corpus: dict[str, str], cases: list[tuple[str, list[str]]]
                ) -> list[dict[str, Any]]:
    """Per case: {"query", "grades": {page id: grade or None (failed verdict)}, "top": the page
    ids with the highest grade, "singled_out": exactly one page has it}. A page id missing from
    the corpus is a one-line SystemExit before any call."""
    from synthir.generators.judge import parse_verdict

    missing = sorted({p for _, pages in cases for p in pages} - set(corpus))
    if missing:
        raise SystemExit(f"not in the corpus: {', '.join(missing)}")
    out = []
    for query, pages in cases:
        gens = llm.generate([judge.prompt(query, corpus[p]) for p in pages], judge.sampling_params())
        grades = {p: parse_verdict(g)[0] for p, g in zip(pages, gens, strict=True)}
        valid = [g for g in grades.values() if g is not None]
        best = max(valid) if valid else None
        top = [p for p, g in grades.items() if g is not None and g == best]
        out.append({"query": query, "grades": grades, "top": top, "singled_out": len(top) == 1})
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--devset", type=Path, required=True, help="a BEIR dir (its corpus.jsonl)")
    ap.add_argument("--case", action="append", required=True, metavar="QUERY=ID,ID,...")
    ap.add_argument("--model", default="embedded-instruct-1.5b")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--tag", required=True)
    a = ap.parse_args(argv)
    cases = [parse_case(c) for c in a.case]
    from data_schemas.config import JudgeConfig, LLMConfig
    from synthir.generators.judge import ChatJudge
    from synthir.io.beir import read_beir
    from synthir.llm.registry import get_llm

    data = read_beir(a.devset)
    corpus = {pid: (f"{d['title']}. {d['text']}" if d.get("title") else d["text"]) for pid, d in data.corpus.items()}
    llm_cfg = LLMConfig(backend="llamacpp", model=a.model, api="chat", threads=a.threads)
    t0 = time.time()
    judge = ChatJudge(JudgeConfig(), llm_cfg, a.model)
    results = grade_cases(judge, get_llm(llm_cfg), corpus, cases)
    record = {"devset": a.devset.resolve().name, "model": a.model, "judge": judge.name,
              "seconds": round(time.time() - t0, 1), "cases": results,
              "singled_out": sum(r["singled_out"] for r in results)}
    out = ROOT / "benchmarks" / "results" / f"judge_pages-{a.tag}.json"
    out.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    for r in results:
        print(f"{r['query']!r}: " + ", ".join(f"{p} {g}" for p, g in r["grades"].items())
              + ("  (one page on top)" if r["singled_out"] else "  (no page singled out)"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
