"""Pool the real test questions of several dev sets: is the synthetic arm at least as good as
the human arm (and better than base) over all languages together?

    .venv/bin/python benchmarks/pooled.py --tag NAME EVAL_DIR [EVAL_DIR ...]

One dev set has 56-68 test questions, too few to tell arms 0.03 nDCG@10 apart (docs/results.md
§8g). Each EVAL_DIR (a `synthir eval` dir with a human split and per_query.json; see
benchmarks/rescore_evals.py for older ones) contributes its test questions; per question the
arms' scores are averaged over that dir's seeds, and the differences synthetic − base,
synthetic − human and human − base are bootstrapped over the pooled questions (each question
weighs the same, whatever its dev set). Writes benchmarks/results/pooled-NAME.json and .md.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from synthir.eval.bootstrap import paired_bootstrap
from synthir.eval.versus import arm_scores, load_per_query

ROOT = Path(__file__).resolve().parents[1]
PAIRS = (("synthetic", "base"), ("synthetic", "human"), ("human", "base"))


def pooled(dirs: list[Path], metric: str = "ndcg@10", resamples: int = 2000) -> dict[str, Any]:
    """{"sets": per dir (beir, queries, runs per arm, arm means), "deltas": {a-b: bootstrap}}."""
    per_arm: dict[str, list[np.ndarray]] = {"synthetic": [], "human": [], "base": []}
    sets = []
    for d in dirs:
        rec = load_per_query(d)
        missing = [a for a in per_arm if a not in rec["arms"]]
        if missing:
            raise SystemExit(f"{d}: no {', '.join(missing)} arm (evaluate with --human-split)")
        qids = sorted(rec["test_qids"])
        scores = {a: arm_scores(rec, a, metric, d, qids) for a in per_arm}
        for a, s in scores.items():
            per_arm[a].append(s)
        sets.append({"eval_dir": d.name, "beir": Path(rec["beir"]).name, "queries": len(qids),
                     "runs": {a: len(rec["arms"][a]) for a in per_arm},
                     "means": {a: round(float(s.mean()), 4) for a, s in scores.items()},
                     **({"rebuilt_from": rec["rebuilt_from"]} if "rebuilt_from" in rec else {})})
    allq = {a: np.concatenate(v) for a, v in per_arm.items()}
    return {"metric": metric, "queries": int(allq["base"].size), "sets": sets,
            "means": {a: round(float(v.mean()), 4) for a, v in allq.items()},
            "deltas": {f"{a}-{b}": paired_bootstrap(allq[a] - allq[b], resamples=resamples) for a, b in PAIRS}}


def markdown(r: dict[str, Any]) -> str:
    lines = [f"# Pooled over dev sets: {r['metric']} on {r['queries']} real test questions", "",
             "| dev set | test q | runs (synthetic/human) | base | synthetic | human |", "|---|---:|---|---:|---:|---:|"]
    for s in r["sets"]:
        lines.append(f"| {s['beir']} | {s['queries']} | {s['runs']['synthetic']}/{s['runs']['human']}"
                     f"{' (rescored)' if 'rebuilt_from' in s else ''} | {s['means']['base']:.3f} | "
                     f"{s['means']['synthetic']:.3f} | {s['means']['human']:.3f} |")
    m = r["means"]
    lines += [f"| **pooled** | {r['queries']} | | {m['base']:.3f} | {m['synthetic']:.3f} | {m['human']:.3f} |", "",
              "| difference | mean | 95% CI | first ahead in |", "|---|---:|---|---:|"]
    for k, d in r["deltas"].items():
        lines.append(f"| {k.replace('-', ' − ')} | {d['mean']:+.4f} | [{d['ci_low']:+.4f}, {d['ci_high']:+.4f}] | "
                     f"{d['share_above_0']:.0%} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dirs", nargs="+", type=Path)
    ap.add_argument("--tag", required=True)
    ap.add_argument("--metric", default="ndcg@10")
    a = ap.parse_args(argv)
    r = pooled(a.dirs, a.metric)
    out = ROOT / "benchmarks" / "results" / f"pooled-{a.tag}"
    out.with_suffix(".json").write_text(json.dumps(r, indent=2) + "\n", encoding="utf-8")
    out.with_suffix(".md").write_text(markdown(r), encoding="utf-8")
    print(markdown(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())
