"""Stage `mine` (per shard): mined hard negatives for the kept pairs from the corpus index,
with false-negative protection (rank window, margins to the positive, near-duplicates of the
positive skipped; duplicates of the positive (same cluster) and, with `roundtrip.match:
document`, passages of its document are never negatives; sentence-transformers'
mine_hard_negatives recipe; see synthir.filters.mining).

Reads: kept, corpus (through the index), clusters. Writes: negatives (MinedNegative). Stats: queries,
mined, skip counts per reason.
"""

from __future__ import annotations

import random
from typing import Any

from data_schemas.records import QueryRecord
from synthir.embed.registry import get_embedder
from synthir.filters.mining import mine_negatives
from synthir.rundir import read_records, write_records
from synthir.stages.base import Context, Stage
from synthir.stages.index import load_index


def mine(ctx: Context) -> dict[str, Any]:
    cfg, shard = ctx.cfg, ctx.sh
    records = read_records(shard.kept, QueryRecord)
    negatives: list = []
    stats: dict[str, Any] = {"queries": len(records)}
    if cfg.mining.num_negatives and records:
        index = load_index(cfg, ctx.run)
        rng = random.Random(f"{cfg.sample.seed}:{shard.name}")
        negatives, stats = mine_negatives(records, index, get_embedder(cfg.embedder), index.vectors(),
                                          index.row_of, ctx.run.store.texts, cfg.mining, rng,
                                          ctx.run.store.equivalence(cfg.roundtrip.match))
    write_records(shard.negatives, negatives)
    return stats


def _funnel(f: Any, stats: dict[str, Any]) -> None:
    f.mining.update({k: v for k, v in stats.items() if isinstance(v, int) and not isinstance(v, bool)})


MINE = Stage("mine", "shard", reads=("kept", "corpus", "clusters"), writes=("negatives",), run=mine, funnel=_funnel)
