"""How often does a sample repeat another sample of the same prompt? (the sample seeds, §8av)

    .venv/bin/python benchmarks/sample_repeats.py --tag NAME --run LABEL=RUN_OUTPUT_DIR ...

A query method samples n queries per passage (Promptagator: 8) at temperature > 0. Each sample
gets its own backend seed (`synthir.llm.base.sample_seed`). Until 2026-12-05 sample k got
run seed + k for every prompt, so every passage replayed the same n random streams: a pair of
streams that happens to agree early gives the same query on passage after passage. This script
reads a finished run's parsed queries (`.synthir/shards/*/queries.jsonl`, in sample order) and
counts, per run:

- `parsed`, and `repeats`: parsed queries equal to an earlier sample of the same (method,
  passage, language), `repeat_share` = repeats / parsed;
- over the prompts whose n samples all parsed (`full`, so a query's position is its sample
  index): how many sample pairs (i, j) are equal (`equal_pairs`) and the three pairs equal most
  often (`top_pairs`: [[i, j], prompts]);
- `sample_seeds`: the scheme the run's provenance records ("seed+k" before it was recorded);
- `kept` (when the run published its dataset, `DIR/data/pairs`): where the kept pairs went:
  `pairs`, `passages` with at least one, and `per_passage` {pairs of one passage: passages}.
  More samples that survive can be new passages or more queries on passages that had some.

Writes benchmarks/results/sample_repeats-NAME.json; labels, not paths, go into the results.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from itertools import combinations
from pathlib import Path
from typing import Any

from synthir.errors import InputError
from synthir.rundir import RunDir

sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchmarks/ is a folder of scripts, not a package
from published import labelled, pair_rows, write_result  # noqa: E402


def read_queries(run_dir: Path) -> list[dict[str, Any]]:
    """The run's parsed query records, shard by shard, in the order they were written."""
    shards = RunDir(Path(run_dir)).shard_dirs()
    rows = []
    for shard in shards:
        path = shard.base / "queries.jsonl"
        if path.is_file():
            rows += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not rows:
        raise InputError(f"{Path(run_dir).name}: no parsed queries (.synthir/shards/*/queries.jsonl): not a "
                         "finished synthir run output dir")
    return rows


def count_repeats(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The module doc's counts for one run's query records (`query`, `method`, `passage_id`,
    `query_lang`, `provenance.sampling.n`)."""
    groups: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    n_of: dict[tuple[str, str, str], int] = {}
    schemes = Counter()
    for r in rows:
        key = (r.get("method", ""), r["passage_id"], r.get("query_lang", ""))
        groups[key].append(r["query"])
        sampling = (r.get("provenance") or {}).get("sampling") or {}
        n_of[key] = int(sampling.get("n", 1))
        schemes[sampling.get("sample_seeds", "seed+k")] += 1
    parsed = sum(len(v) for v in groups.values())
    repeats = sum(len(v) - len(set(v)) for v in groups.values())
    pairs: Counter = Counter()
    full = 0
    for key, queries in groups.items():
        if n_of[key] < 2 or len(queries) != n_of[key]:
            continue
        full += 1
        pairs.update((i, j) for i, j in combinations(range(len(queries)), 2) if queries[i] == queries[j])
    return {"prompts": len(groups), "parsed": parsed, "repeats": repeats,
            "repeat_share": round(repeats / parsed, 4) if parsed else 0.0, "full": full,
            "equal_pairs": sum(pairs.values()), "top_pairs": [[list(p), c] for p, c in pairs.most_common(3)],
            "sample_seeds": dict(schemes)}


def kept_per_passage(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Kept pairs (`positive_id` each) per passage: {"pairs", "passages", "per_passage"}."""
    per = Counter(r["positive_id"] for r in rows)
    hist = Counter(per.values())
    return {"pairs": len(rows), "passages": len(per), "per_passage": {str(k): hist[k] for k in sorted(hist)}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tag", required=True)
    ap.add_argument("--run", action="append", required=True, metavar="LABEL=DIR")
    args = ap.parse_args()
    out: dict[str, Any] = {}
    for label, run_dir in labelled(args.run, what="--run LABEL=DIR"):
        try:
            out[label] = count_repeats(read_queries(run_dir))
        except InputError as e:
            raise SystemExit(f"sample_repeats: {e}") from None
        if (Path(run_dir) / "data" / "pairs").is_dir():
            out[label]["kept"] = kept_per_passage(pair_rows(Path(run_dir), ["positive_id"]))
        print(label, out[label])
    write_result("sample_repeats", args.tag, out)


if __name__ == "__main__":
    main()
