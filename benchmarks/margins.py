"""Round-trip margins of a student's training pairs, and of the pairs of the pages that took its
worse questions.

    .venv/bin/python benchmarks/margins.py --tag NAME MOVES_JSON EVAL_DIR

Why: on German set 2 the questions a fine-tune makes worse mostly go to a broader page of the
same application whose kept queries are broad (docs/results.md §8af), and Promptagator's strict
round trip (source ranked first) keeps those queries. A margin round trip would keep a query
only when its source outscores every other passage by some δ. This script measures whether such
a rule could separate them before anyone builds it: under the eval's base model, each kept pair's
margin = cos(query, source) − max cos(query, other passage); summaries for every pair and for
the pairs of the "attracting" pages (the student's first page of a worse question that is not
relevant to it, from a `moves.py --list` result), and the share of all pairs a cut at δ would
drop. The passages are the dataset's published `corpus` config (what its round trip searched).
Writes benchmarks/results/margins-NAME.{json,md}.
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchmarks/ is a folder of scripts, not a package
import heldout  # noqa: E402

CUTS = (0.0, 0.01, 0.02, 0.03, 0.05)


def margins(scores: Any, positives: list[int]) -> list[float]:
    """Per row of `scores` (queries x passages, cosine): its positive's score minus the best
    other passage's."""
    out = []
    for row, j in zip(scores, positives):
        others = [float(s) for k, s in enumerate(row) if k != j]
        out.append(float(row[j]) - max(others))
    return out


def summary(values: list[float]) -> dict[str, Any]:
    """{"pairs", "median", "below": {cut: share of values below it}}."""
    n = len(values)
    return {"pairs": n, "median": round(statistics.median(values), 4) if n else None,
            "below": {str(c): round(sum(v < c for v in values) / n, 3) if n else None for c in CUTS}}


def attracting(moves_run: dict[str, Any]) -> set[str]:
    """Pages a `moves.py --list` run's student ranks first for a worse question they do not answer."""
    if "worse" not in moves_run:
        raise SystemExit(f"{moves_run.get('devset', '?')}: the moves result has no worse list (run moves.py --list)")
    return {q["tuned_first"] for q in moves_run["worse"]["questions"] if not q["tuned_first_relevant"]}


def measure(moves_run: dict[str, Any], eval_dir: Path) -> dict[str, Any]:
    """The module doc's summaries for one eval dir."""
    from datasets import load_dataset

    from synthir.eval.harness import _load_model
    from synthir.eval.retrieval import doc_text

    info = heldout._json(eval_dir / "eval.json")  # only the base model and the dataset are used
    opts = info["options"]
    if isinstance(info["dataset"], list):
        raise SystemExit(f"{eval_dir}: trained on several datasets; margins.py reads one dataset's round trip")
    pairs = load_dataset(str(info["dataset"]), "pairs", split="train")
    corpus = load_dataset(str(info["dataset"]), "corpus", split="train")  # what the round trip searched
    index = {d: i for i, d in enumerate(corpus["_id"])}
    missing = [p for p in pairs["positive_id"] if p not in index]
    if missing:
        raise SystemExit(f"{eval_dir.name}: pair positive {missing[0]} is not in the dataset's corpus")
    model = _load_model(info["model"], opts.get("max_seq_length"))
    docs = model.encode([opts["passage_prefix"] + doc_text(d) for d in corpus], normalize_embeddings=True)
    qv = model.encode([opts["query_prefix"] + q for q in pairs["query"]], normalize_embeddings=True)
    m = margins(qv @ docs.T, [index[p] for p in pairs["positive_id"]])
    pages = attracting(moves_run)
    mine = [v for v, p in zip(m, pairs["positive_id"]) if p in pages]
    return {"devset": moves_run["devset"], "model": info["model"], "attracting_pages": sorted(pages),
            "all_pairs": summary(m), "attracting_pairs": summary(mine)}


def table(rows: list[dict[str, Any]]) -> str:
    head = " | ".join(f"< {c}" for c in CUTS)
    out = [f"| dev set: pairs | n | median margin | {head} |", "|---|---:|---:|" + "---:|" * len(CUTS)]
    for r in rows:
        for name in ("all_pairs", "attracting_pairs"):
            s = r[name]
            out.append(f"| {r['devset'][-2:]}: {name.replace('_', ' ')} | {s['pairs']} | {s['median']} | "
                       + " | ".join(str(s["below"][str(c)]) for c in CUTS) + " |")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = heldout.chained_parser(__doc__, "moves_json")
    a = ap.parse_args(argv)
    runs = heldout.read_runs(a.moves_json, "moves.py --list")
    if len(runs) != len(a.eval_dirs):
        raise SystemExit(f"{a.moves_json.name} has {len(runs)} runs; pass one EVAL_DIR per run, in its order")
    rows = [measure(r, d) for r, d in zip(runs, a.eval_dirs)]
    heldout.write(f"margins-{a.tag}", {"about": a.about, "moves": a.moves_json.name, "runs": rows},
                  f"# Round-trip margins of the training pairs: {a.tag}\n\n{a.about}\n\n{table(rows)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
