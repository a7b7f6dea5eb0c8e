"""How did the judge stage (Gecko; `judge.kind: yes_no` or `chat`) treat a run's kept queries?

    .venv/bin/python benchmarks/judge_stats.py RUN_DIR --tag NAME

RUN_DIR is a run's output dir (its `.synthir/shards/*/judge.done.json` and `judgments.jsonl`);
shards the judge has not finished are left out and counted, so an interrupted run reports the
part it judged. Per run: queries in and kept, the outcomes (confirmed / promoted / dropped),
the grade histograms, and, for `yes_no`, the spread of P(yes) of the source passages and of
the retrieved candidates and how often a source scores above a candidate of the same query
(the judge's ranking signal, which fixed `yes_no_cuts` do not use). Writes
benchmarks/results/judge_stats-NAME.json.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def _quantiles(values: list[float]) -> dict[str, float] | None:
    if not values:
        return None
    q = np.quantile(np.asarray(values, dtype=np.float64), [0.1, 0.25, 0.5, 0.75, 0.9])
    return {"n": len(values), "mean": round(float(np.mean(values)), 4),
            **{k: round(float(v), 4) for k, v in zip(("p10", "p25", "p50", "p75", "p90"), q)}}


def judge_stats(run: Path) -> dict[str, Any]:
    """The summary above for one run dir (see the module doc)."""
    shards = sorted((run / ".synthir" / "shards").glob("*/"))
    done = [s for s in shards if (s / "judge.done.json").is_file()]
    if not done:
        raise SystemExit(f"{run}: no shard has finished the judge stage")
    totals: Counter[str] = Counter()
    grades: dict[str, Counter[str]] = defaultdict(Counter)
    p_yes: dict[str, list[float]] = defaultdict(list)
    per_query: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    seconds = 0.0
    for s in done:
        d = json.loads((s / "judge.done.json").read_text(encoding="utf-8"))
        totals.update({"in": d["in"], "kept": d["kept"], "asked": d["asked"]})
        totals.update(d["outcomes"])
        for role, hist in d["grades"].items():
            grades[role].update(hist)
        seconds += d["seconds"]
        for line in (s / "judgments.jsonl").open(encoding="utf-8"):
            j = json.loads(line)
            if j.get("p_yes") is not None and not j.get("skipped"):
                p_yes[j["role"]].append(j["p_yes"])
                per_query[j["query_id"]][j["role"]].append(j["p_yes"])
    above = total = 0
    for roles in per_query.values():
        for c in roles.get("candidate", []):
            for src in roles.get("source", [])[:1]:
                total += 1
                above += src > c
    return {"run": run.name, "shards_judged": len(done), "shards": len(shards), "seconds": round(seconds, 1),
            "queries_in": totals["in"], "queries_kept": totals["kept"], "judgments": totals["asked"],
            "outcomes": {k: totals[k] for k in ("confirmed", "promoted", "added", "dropped", "unjudged")},
            "grades": {role: dict(sorted(h.items())) for role, h in grades.items()},
            "p_yes": {role: _quantiles(v) for role, v in sorted(p_yes.items())},
            "source_above_candidate": {"pairs": total, "share": round(above / total, 4) if total else None}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run", type=Path)
    ap.add_argument("--tag", required=True)
    a = ap.parse_args()
    out = judge_stats(a.run)
    path = ROOT / "benchmarks" / "results" / f"judge_stats-{a.tag}.json"
    path.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(out, indent=2))
    print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
