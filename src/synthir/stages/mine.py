"""Stage `mine` (per shard): mined hard negatives for the kept pairs from the corpus index,
with false-negative protection (rank window, margins to the positive, near-duplicates of the
positive skipped; duplicates of the positive (same cluster) and, with `roundtrip.match:
document`, passages of its document are never negatives; passages the judge graded relevant
masked; sentence-transformers' mine_hard_negatives recipe; see synthir.filters.mining), plus
the candidates the judge graded irrelevant as verified hard negatives (`source: judged`).

Reads: judged, judgments, corpus (through the index), clusters. Writes: negatives
(MinedNegative). Stats: queries, mined, judged, skip counts per reason.
"""

from __future__ import annotations

import random
from typing import Any

from data_schemas.records import Judgment, QueryRecord
from synthir.embed.registry import get_embedder
from synthir.filters.judge import judged_sets
from synthir.filters.mining import mine_negatives
from synthir.rundir import read_records, write_records
from synthir.stages.base import Context, Stage
from synthir.stages.index import load_index


def mine(ctx: Context) -> dict[str, Any]:
    cfg, shard = ctx.cfg, ctx.sh
    records = read_records(shard.judged, QueryRecord)
    judged = judged_sets(cfg.judge, read_records(shard.judgments, Judgment))
    negatives: list = []
    stats: dict[str, Any] = {"queries": len(records)}
    if records and (cfg.mining.num_negatives or any(j.irrelevant for j in judged.values())):
        index = load_index(cfg, ctx.run)
        rng = random.Random(f"{cfg.sample.seed}:{shard.name}")
        negatives, stats = mine_negatives(records, index, get_embedder(cfg.embedder), index.vectors(),
                                          index.row_of, ctx.run.store.texts, cfg.mining, rng,
                                          ctx.run.store.equivalence(cfg.roundtrip.match), judged)
    write_records(shard.negatives, negatives)
    return stats


def _funnel(f: Any, stats: dict[str, Any]) -> None:
    f.mining.update({k: v for k, v in stats.items() if isinstance(v, int) and not isinstance(v, bool)})


MINE = Stage("mine", "shard", reads=("judged", "judgments", "corpus", "clusters"), writes=("negatives",), run=mine,
             funnel=_funnel)
