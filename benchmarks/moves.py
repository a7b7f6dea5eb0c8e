"""Which real questions a fine-tune made better or worse, and what its training pairs hold for them.

    .venv/bin/python benchmarks/moves.py --tag NAME WISEFT_JSON EVAL_DIR [EVAL_DIR ...]

Why: on the second GNOME help set, German and Spanish e5-small students lose about twice what
the French one loses on the questions they make worse (docs/results.md §8ae). This script tests
two explanations of such losses against the published training pairs:
- the question's page had no (or few) kept synthetic queries, so training pulled other pages
  toward their queries and left it behind;
- a kept query written for ANOTHER page looks like the question (rapidfuzz token_set_ratio), so
  training pulled the question toward that page.

WISEFT_JSON is a benchmarks/wiseft.py result: per question, nDCG@10 at a = 0 (base) and a = 1
(the seed-0 fine-tune), over every unseen question. Each EVAL_DIR is the eval dir of one of
its runs (matched by name); its eval.json names the dev set and the synthir dataset whose
`pairs` config the student trained on. Questions are grouped into worse / better / same
(fine-tune vs base); per group: how many, the total nDCG moved, the mean number of kept queries
of the question's relevant page (the fewest over its relevant pages), how many of those pages
have none, and how often the most similar kept query belongs to a page not relevant to the
question. With `--list`, each eval dir's base and seed-0 student are loaded and searched again,
and every worse question is listed: the page each model ranks first, whether the student's
first page belongs to another application (dev-set ids are `lang:app/page`), and up to three kept
queries of the student's first page and of the question's own page. Writes
benchmarks/results/moves-NAME.{json,md}.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchmarks/ is a folder of scripts, not a package
import heldout  # noqa: E402

EPS = 1e-9


def groups(base: dict[str, float], tuned: dict[str, float]) -> dict[str, list[str]]:
    """Question ids by how the fine-tune moved them: {"worse", "better", "same"}."""
    out: dict[str, list[str]] = {"worse": [], "better": [], "same": []}
    for q, b in base.items():
        t = tuned[q]
        out["worse" if t < b - EPS else "better" if t > b + EPS else "same"].append(q)
    return out


def describe(qids: list[str], base: dict[str, float], tuned: dict[str, float], questions: dict[str, str],
             relevant: dict[str, set[str]], pair_queries: list[str], pair_pages: list[str]) -> dict[str, Any]:
    """The summary of one group (module doc); `pair_*` are the training pairs' queries and
    positive ids, in the same order."""
    from rapidfuzz import fuzz, process

    kept = Counter(pair_pages)
    fewest = [min(kept.get(p, 0) for p in relevant[q]) for q in qids]
    other, sims = 0, []
    folded = [s.casefold() for s in pair_queries]
    for q in qids:
        _, sim, i = process.extractOne(questions[q].casefold(), folded, scorer=fuzz.token_set_ratio)
        other += pair_pages[i] not in relevant[q]
        sims.append(sim)
    n = len(qids)
    return {"questions": n, "ndcg_moved": round(sum(tuned[q] - base[q] for q in qids), 3),
            "kept_queries_per_page": round(sum(fewest) / n, 2) if n else None,
            "pages_without_kept_query": sum(k == 0 for k in fewest),
            "nearest_kept_query_is_another_page": other,
            "nearest_similarity": round(sum(sims) / n, 1) if n else None}


def moves(run: dict[str, Any], eval_dir: Path, list_worse: bool = False) -> dict[str, Any]:
    """`describe` for each group of one wiseft.py run, with its eval dir's dev set and pairs;
    with `list_worse`, also `listing` of the worse group."""
    from datasets import load_dataset

    from synthir.io.beir import read_beir

    from synthir.errors import InputError

    info = heldout._json(eval_dir / "eval.json")
    try:
        data = read_beir(Path(info["beir"]))
        pairs = load_dataset(str(info["dataset"]), "pairs", split="train")
    except (InputError, OSError, ValueError) as e:
        raise SystemExit(f"{eval_dir.name}: cannot read its dev set or pairs ({type(e).__name__})") from None
    base, tuned = run["per_question"]["0.0"], run["per_question"]["1.0"]
    qrels = data.qrels[info["qrels_split"]]
    unknown = [q for q in base if q not in qrels]
    if unknown:
        raise SystemExit(f"{eval_dir.name}: question {unknown[0]} of the wiseft run is not in its dev set")
    relevant = {q: set(qrels[q]) for q in base}
    grouped = groups(base, tuned)
    out = {"devset": run["devset"], "pairs": len(pairs),
           "groups": {name: describe(qids, base, tuned, data.queries, relevant, pairs["query"],
                                     pairs["positive_id"]) for name, qids in grouped.items()}}
    if list_worse:
        out["worse"] = listing(eval_dir, info, data, grouped["worse"], relevant, pairs)
    return out


def _first(ranked: dict[str, float]) -> str:
    return max(ranked.items(), key=lambda kv: kv[1])[0]


def _app(doc_id: str) -> str:
    """`app` of a GNOME-help dev-set id `lang:app/page` (the whole id when it has no such form)."""
    return doc_id.split(":", 1)[-1].split("/", 1)[0]


def confusions(qids: list[str], base_run: dict[str, dict[str, float]], tuned_run: dict[str, dict[str, float]],
               questions: dict[str, str], relevant: dict[str, set[str]], pair_queries: list[str],
               pair_pages: list[str], shown: int = 3) -> list[dict[str, Any]]:
    """Per question of `qids` (the worse group): the first page of base and of the fine-tune
    (`*_run`: {question: {doc: score}}), whether the fine-tune's first page is relevant, in the
    question's application, and `shown` kept queries of that page and of the question's page."""
    kept: dict[str, list[str]] = {}
    for q, p in zip(pair_queries, pair_pages):
        kept.setdefault(p, []).append(q)
    out = []
    for q in qids:
        rel = sorted(relevant[q])
        b, t = _first(base_run[q]), _first(tuned_run[q])
        out.append({"question": q, "text": questions[q], "relevant": rel, "base_first": b, "tuned_first": t,
                    "tuned_first_relevant": t in relevant[q],
                    "tuned_first_other_app": all(_app(t) != _app(r) for r in rel),
                    "kept_of_tuned_first": kept.get(t, [])[:shown], "kept_of_relevant": kept.get(rel[0], [])[:shown]})
    return out


def listing(eval_dir: Path, info: dict[str, Any], data: Any, worse: list[str], relevant: dict[str, set[str]],
            pairs: Any) -> dict[str, Any]:
    """`confusions` of `worse` with `eval_dir`'s base and seed-0 student searched again (`info`:
    its eval.json; `data`: its dev set), and their counts: the student's first page is relevant /
    another page of the same app / another app."""
    from synthir.eval.harness import _load_model
    from synthir.eval.retrieval import retrieve

    opts = info["options"]
    runs = {}
    for arm, name in (("base", info["model"]), ("tuned", str(heldout.student(eval_dir)))):
        runs[arm] = retrieve(_load_model(name, opts.get("max_seq_length")), data, info["qrels_split"],
                             **heldout.retrieval_kw(opts))
    rows = confusions(worse, runs["base"], runs["tuned"], data.queries, relevant, pairs["query"], pairs["positive_id"])
    return {"tuned_first_relevant": sum(r["tuned_first_relevant"] for r in rows),
            "tuned_first_same_app": sum(not r["tuned_first_relevant"] and not r["tuned_first_other_app"] for r in rows),
            "tuned_first_other_app": sum(r["tuned_first_other_app"] for r in rows), "questions": rows}


def table(rows: list[dict[str, Any]]) -> str:
    """Markdown: one row per dev set and group."""
    out = ["| dev set: questions | q. | nDCG moved | kept queries per page | pages with none | "
           "nearest kept query is another page's | its similarity |", "|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        for name, g in r["groups"].items():
            out.append(f"| {r['devset'][-2:]}: {name} | {g['questions']} | {g['ndcg_moved']:+.2f} | "
                       f"{g['kept_queries_per_page']} | {g['pages_without_kept_query']} | "
                       f"{g['nearest_kept_query_is_another_page']} | {g['nearest_similarity']} |")
    return "\n".join(out) + "\n"


def worse_table(rows: list[dict[str, Any]]) -> str:
    """Markdown: the listed worse questions of each dev set (empty when none was listed)."""
    out = []
    for r in rows:
        w = r.get("worse")
        if not w:
            continue
        out += [f"\n### {r['devset'][-2:]}: worse questions, the student's first page: {w['tuned_first_relevant']} "
                f"relevant, {w['tuned_first_same_app']} same app, {w['tuned_first_other_app']} other app\n",
                "| question | its page | student's first page | kept queries of that page | kept queries of its page |",
                "|---|---|---|---|---|"]
        for q in w["questions"]:
            cell = lambda xs: " / ".join(x.replace("|", "/") for x in xs) or "(none)"  # noqa: E731
            out.append(f"| {q['text']} | {', '.join(q['relevant'])} | {q['tuned_first']} | "
                       f"{cell(q['kept_of_tuned_first']) if not q['tuned_first_relevant'] else '(relevant)'} | "
                       f"{cell(q['kept_of_relevant'])} |")
    return "\n".join(out) + ("\n" if out else "")


def main(argv: list[str] | None = None) -> int:
    ap = heldout.chained_parser(__doc__, "wiseft_json")
    ap.add_argument("--list", action="store_true",
                    help="search again with base and the seed-0 student and list every worse question")
    a = ap.parse_args(argv)
    runs = heldout.read_runs(a.wiseft_json, "wiseft.py")
    dirs = {d.name: d for d in a.eval_dirs}
    missing = [r["eval"] for r in runs if r["eval"] not in dirs]
    if missing:
        raise SystemExit(f"no EVAL_DIR named {missing[0]} (the wiseft runs are {', '.join(r['eval'] for r in runs)})")
    rows = [moves(r, dirs[r["eval"]], a.list) for r in runs]
    heldout.write(f"moves-{a.tag}", {"about": a.about, "wiseft": a.wiseft_json.name, "runs": rows},
                              f"# Questions a fine-tune moved: {a.tag}\n\n{a.about}\n\n{table(rows)}{worse_table(rows)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
