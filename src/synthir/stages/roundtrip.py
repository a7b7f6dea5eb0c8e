"""Stage `roundtrip` (per shard): Promptagator's round-trip filter. Each query that passed the
cheap filters is searched over the WHOLE corpus index; it is kept when its source passage
ranks in the top `roundtrip.top_k` (see synthir.filters.roundtrip); with
`roundtrip.keep_per_passage`, only the best that many per (passage, method, language).

Reads: filtered, corpus (through the index). Writes: kept (QueryRecord with roundtrip_rank /
roundtrip_score), roundtrip_rejected. Stats: in, kept, rejected, not_selected, source_rank histogram.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from data_schemas.records import QueryRecord
from synthir.embed.registry import get_embedder
from synthir.filters.roundtrip import rank_histogram, roundtrip_filter, select_per_passage
from synthir.rundir import read_records, write_records
from synthir.stages.base import Context, Stage
from synthir.stages.index import load_index


def roundtrip(ctx: Context) -> dict[str, Any]:
    cfg, shard = ctx.cfg, ctx.sh
    records = read_records(shard.filtered, QueryRecord)
    kept, rejected, ranks = roundtrip_filter(records, load_index(cfg, ctx.run), get_embedder(cfg.embedder),
                                             cfg.roundtrip.top_k)
    kept, not_selected = select_per_passage(kept, cfg.roundtrip.keep_per_passage)
    write_records(shard.roundtrip_rejected, rejected + not_selected)
    write_records(shard.kept, kept)
    return {"in": len(records), "kept": len(kept), "rejected": len(rejected), "not_selected": len(not_selected),
            "source_rank": rank_histogram(ranks)}


def _funnel(f: Any, stats: dict[str, Any]) -> None:
    f.source_rank.update(Counter(stats.get("source_rank", {})))


ROUNDTRIP = Stage("roundtrip", "shard", reads=("filtered", "corpus"), writes=("kept", "roundtrip_rejected"),
                  run=roundtrip, rejected="roundtrip_rejected", group="queries",
                  counts=(("kept", "roundtrip_kept"),), funnel=_funnel)
