"""Where a fine-tune's gain over base comes from: the test questions base already ranks first
(nDCG@10 = 1) against the rest.

    .venv/bin/python benchmarks/base_first.py --tag NAME PER_QUERY_DIR [PER_QUERY_DIR ...] [--arm synthetic]

Each PER_QUERY_DIR holds a `synthir eval` per_query.json (benchmarks/results/per_query/<tag>/<dev
set>-<student>-<loss>). Per dir, over the test half: the questions base ranks first, how many of
them the arm loses (mean over its seeds below base), and what they add to the arm's mean gain
over base (their summed change / every test question); the same for the other questions (how
many the arm gains on). The two contributions add up to the arm's mean − base. Why: on the
high-base sets a fine-tune gains on the questions base misses and gives some of base's hits
away (docs/results.md §8af, §8bq, §8br); this splits one number into the two.

Writes benchmarks/results/base_first-NAME.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FIRST = 1.0 - 1e-9


def split(record: dict[str, Any], arm: str, metric: str = "ndcg@10") -> dict[str, Any]:
    """The base-first / other split of `arm`'s mean gain over base on the test half of one
    per_query.json record."""
    base = record["arms"]["base"][0][metric]
    runs = [r[metric] for r in record["arms"][arm]]
    qids = record["test_qids"]
    change = {q: sum(r[q] for r in runs) / len(runs) - base[q] for q in qids}
    first = [q for q in qids if base[q] >= FIRST]
    other = [q for q in qids if base[q] < FIRST]
    return {"test_questions": len(qids), "runs": len(runs),
            "base": round(sum(base[q] for q in qids) / len(qids), 4),
            "arm_minus_base": round(sum(change.values()) / len(qids), 4),
            "base_first": {"questions": len(first), "lost": sum(change[q] < 0 for q in first),
                           "contribution": round(sum(change[q] for q in first) / len(qids), 4)},
            "other": {"questions": len(other), "gained": sum(change[q] > 0 for q in other),
                      "lost": sum(change[q] < 0 for q in other),
                      "contribution": round(sum(change[q] for q in other) / len(qids), 4)}}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("dirs", nargs="+", type=Path)
    p.add_argument("--arm", default="synthetic", choices=["synthetic", "human"])
    p.add_argument("--tag", required=True)
    a = p.parse_args(argv)
    rows = {}
    for d in a.dirs:
        path = d / "per_query.json"
        if not path.is_file():
            raise SystemExit(f"{d}: no per_query.json (a `synthir eval` output dir)")
        rows[f"{d.parent.name}/{d.name}"] = split(json.loads(path.read_text(encoding="utf-8")), a.arm)
    out = ROOT / "benchmarks" / "results" / f"base_first-{a.tag}"
    out.with_suffix(".json").write_text(json.dumps({"arm": a.arm, "evals": rows}, indent=2) + "\n", encoding="utf-8")
    lines = [f"# Base-first questions vs the rest ({a.arm} arm, test half)", "",
             "| eval | base | arm − base | base-first: questions, lost, contribution | others: questions, "
             "gained, lost, contribution |", "|---|---:|---:|---|---|"]
    for name, r in rows.items():
        f, o = r["base_first"], r["other"]
        lines.append(f"| {name} | {r['base']:.3f} | {r['arm_minus_base']:+.3f} | {f['questions']}, {f['lost']}, "
                     f"{f['contribution']:+.3f} | {o['questions']}, {o['gained']}, {o['lost']}, {o['contribution']:+.3f} |")
    out.with_suffix(".md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
