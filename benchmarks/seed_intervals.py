"""Do the downstream results hold when the training seeds are resampled too?

    .venv/bin/python benchmarks/seed_intervals.py --tag NAME LABEL=EVAL_DIR [LABEL=EVAL_DIR ...]

Each EVAL_DIR is a `synthir eval` dir (or a `synthir eval-merge` one) with per_query.json, a
human split and several seeds. For synthetic − base, synthetic − human and, when the dir kept
them, every unseen question, it puts the query bootstrap's interval (each query's score
averaged over the seeds first, as docs/results.md has reported since §8g) beside the
Multi-Bootstrap's, which resamples each arm's seeds too (Sellam et al., "The MultiBERTs", ICLR
2022; eval/bootstrap.py). Writes benchmarks/results/seed_intervals-NAME.json and .md. With 3
seeds the seed draw is a lower bound on the seeds' share (see multi_bootstrap).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from synthir.errors import InputError
from synthir.eval.versus import compare_evals, load_per_query

ROOT = Path(__file__).resolve().parents[1]
COMPARISONS = (("synthetic − base", "base", False), ("synthetic − human", "human", False),
               ("synthetic − base, every unseen question", "base", True))


def intervals(eval_dir: Path, resamples: int = 1000) -> dict[str, Any]:
    """{"seeds", "rows": [{"what", "queries", "a_mean", "b_mean", "delta", "delta_seeds"}]} for
    the comparisons the dir has (a human arm, unseen scores); SystemExit (one line) for a dir
    that cannot answer (no per_query.json, one seed, no human arm)."""
    try:
        rec = load_per_query(eval_dir)
    except InputError as e:
        raise SystemExit(str(e)) from None
    if len(rec["arms"].get("synthetic", [])) < 2:
        raise SystemExit(f"{eval_dir}: one seed only, nothing to resample (evaluate with --seeds 0,1,2)")
    if "human" not in rec["arms"]:
        raise SystemExit(f"{eval_dir}: no human arm (evaluate with --human-split)")
    rows = []
    for what, other, unseen in COMPARISONS:
        if unseen and not rec.get("unseen"):
            continue
        r = compare_evals(eval_dir, eval_dir, arm="synthetic", arm_b=other, unseen=unseen, resamples=resamples)
        rows.append({"what": what, "queries": r["queries"], "a_mean": r["a_mean"], "b_mean": r["b_mean"],
                     "delta": r["delta"], "delta_seeds": r["delta_seeds"]})
    return {"seeds": rec["seeds"], "rows": rows}


def _ci(d: dict[str, Any]) -> str:
    return f"[{d['ci_low']:+.3f}, {d['ci_high']:+.3f}] ({d['share_above_0']:.0%})"


def table(results: dict[str, dict[str, Any]]) -> str:
    """Markdown: one line per (eval, comparison): questions, mean delta, both intervals with
    the share of resamples above 0, and whether the seeds move the interval across 0."""
    out = ["| eval | comparison | q. | seeds | delta | queries resampled (>0) | seeds too (>0) | across 0 |",
           "|---|---|---:|---:|---:|---|---|---|"]
    for label, res in results.items():
        for r in res["rows"]:
            d, m = r["delta"], r["delta_seeds"]
            flip = (d["ci_low"] > 0) != (m["ci_low"] > 0) or (d["ci_high"] < 0) != (m["ci_high"] < 0)
            out.append(f"| {label} | {r['what']} | {r['queries']} | {len(res['seeds'])} | {d['mean']:+.3f} | "
                       f"{_ci(d)} | {_ci(m)} | {'changes' if flip else 'same'} |")
    return "\n".join(out) + "\n"


def _public(path: Path) -> str:
    """The dir relative to the project, else its name: never a local absolute path."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return path.resolve().name


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("evals", nargs="+", metavar="LABEL=EVAL_DIR")
    ap.add_argument("--tag", required=True)
    ap.add_argument("--bootstrap", type=int, default=1000)
    a = ap.parse_args(argv)
    pairs = [e.split("=", 1) for e in a.evals]
    if any(len(p) != 2 or not p[0] for p in pairs):
        raise SystemExit("each eval is LABEL=EVAL_DIR, e.g. 'German set 1=benchmarks/results/per_query/.../DIR'")
    results = {label: intervals(Path(d), a.bootstrap) for label, d in pairs}
    dirs = {label: _public(Path(d)) for label, d in pairs}
    out = ROOT / "benchmarks" / "results" / f"seed_intervals-{a.tag}"
    Path(f"{out}.json").write_text(json.dumps({"evals": dirs, "bootstrap": a.bootstrap, "results": results},
                                              indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    Path(f"{out}.md").write_text(table(results), encoding="utf-8")
    print(table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
