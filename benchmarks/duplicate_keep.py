"""Which copy of a query written for several passages does the filter keep? (`filters.duplicate_keep`)

    .venv/bin/python benchmarks/duplicate_keep.py --tag NAME --run LABEL=RUN_OUTPUT_DIR ...

The 1.5B generator writes the same short query for sibling pages ("Imprimir folleto de 16
páginas" for the 14-page and the 16-page booklet pages; "Visor de documentos" for three evince
pages). The filter keeps one copy per group of near-identical queries: the first written
(`first`), or (`roundtrip`, the default) the first copy whose own passage is in the round
trip's top-K, else the one whose passage the search ranks best. This script re-runs the
filter stage's filters on a finished run's parsed queries (its `.synthir` work files, the run's
own config and index; no LLM call) both ways, and reports per run: the groups that span
passages, how many the rule decided differently from `first`, how many groups' kept copy will
then pass the round trip (source in the run's top-K) each way, and each group with every copy's
passage and source rank. Writes benchmarks/results/duplicate_keep-NAME.json; labels, not paths,
go into the results.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

from data_schemas.config import RunConfig
from data_schemas.records import Passage, QueryRecord
from synthir.errors import ConfigError, InputError
from synthir.filters.queries import Rank, filter_queries
from synthir.rundir import RunDir, read_records, read_run_meta
from synthir.stages.base import Context
from synthir.stages.filter import filter_langid, ranker

sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchmarks/ is a folder of scripts, not a package
from published import labelled, write_result  # noqa: E402

KEPT = re.compile(r"duplicate of (\S+) ")


def compare(records: list[QueryRecord], passages: dict[str, Passage], cfg: RunConfig,
            rank: Rank) -> dict[str, Any]:
    """Filter `records` both ways (`first`; `roundtrip` with the run's top_k); the groups of
    cross-passage duplicates (as the `roundtrip` way saw them) with every copy's rank."""
    langid = filter_langid(cfg)
    seen: dict[str, tuple[int | None, float]] = {}

    def recording(recs: list[QueryRecord]) -> list[tuple[int | None, float]]:
        out = rank(recs)
        seen.update((r.id, x) for r, x in zip(recs, out, strict=True))
        return out

    first, _, _ = filter_queries(records, passages, cfg.filters, langid)
    best, rejected, stats = filter_queries(records, passages, cfg.filters, langid, recording, cfg.roundtrip.top_k)
    by_id = {r.id: r for r in records}
    kept_first, kept_best = {r.id for r in first}, {r.id for r in best}
    groups: dict[str, list[str]] = {}  # the kept copy's id -> the group's ids, from the rejected rows' detail
    for rej in rejected:
        m = KEPT.match(rej.detail)
        if rej.reason == "near_duplicate" and m and rej.item_id in seen:
            groups.setdefault(m.group(1), [m.group(1)]).append(rej.item_id)
    rows = [{"query": by_id[key].query, "changed": key not in kept_first,
             "copies": [{"passage": by_id[i].passage_id, "query": by_id[i].query, "source_rank": seen[i][0],
                         "kept_first": i in kept_first, "kept_roundtrip": i in kept_best} for i in ids]}
            for key, ids in groups.items()]
    top_k = cfg.roundtrip.top_k

    def passes(flag: str) -> int:  # groups whose kept copy will pass the round trip (source in the top-K)
        return sum(any(c[flag] and c["source_rank"] is not None and c["source_rank"] <= top_k for c in g["copies"])
                   for g in rows)
    return {"queries": len(records), "kept_first": len(first), "kept_roundtrip": len(best),
            "cross_passage_groups": len(rows), "decided_differently": stats["duplicates_resolved"],
            "roundtrip_top_k": top_k, "groups_passing_roundtrip": {"first": passes("kept_first"),
                                                                   "roundtrip": passes("kept_roundtrip")},
            "groups": sorted(rows, key=lambda g: g["query"])}


def load(run_dir: Path) -> tuple[RunConfig, list[QueryRecord], dict[str, Passage], Rank]:
    """A finished run's config, parsed queries, passages and round-trip search."""
    run = RunDir(run_dir)
    cfg = RunConfig.model_validate(read_run_meta(run)["config"])
    records: list[QueryRecord] = []
    passages: dict[str, Passage] = {}
    for shard in run.shard_dirs():
        passages.update((p.id, p) for p in read_records(shard.passages, Passage))
        records += read_records(shard.queries, QueryRecord)
    rank = ranker(Context(cfg.model_copy(update={"filters": cfg.filters.model_copy(
        update={"duplicate_keep": "roundtrip"})}), run))
    assert rank is not None
    return cfg, records, passages, rank


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tag", required=True)
    ap.add_argument("--run", action="append", required=True, metavar="LABEL=DIR",
                    help="a `synthir run` output dir (its .synthir work files are read)")
    args = ap.parse_args()
    out: dict[str, Any] = {}
    for label, run_dir in labelled(args.run, what="--run LABEL=DIR"):
        try:
            cfg, records, passages, rank = load(run_dir)
        except (ConfigError, InputError) as e:
            raise SystemExit(f"duplicate_keep: {e}") from None
        out[label] = compare(records, passages, cfg, rank)
        print(label, {k: v for k, v in out[label].items() if k != "groups"})
    write_result("duplicate_keep", args.tag, out, sort_keys=True)


if __name__ == "__main__":
    main()
