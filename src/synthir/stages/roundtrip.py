"""Stage `roundtrip` (per shard): Promptagator's round-trip filter. Each query that passed the
cheap filters is searched over the WHOLE corpus index; it is kept when its source passage
ranks in the top `roundtrip.top_k` (see synthir.filters.roundtrip); a duplicate of the source
(and, with `roundtrip.match: document`, a passage of its document) counts as the source; with
`roundtrip.keep_per_passage`, only the best that many per (passage, method, language).

Reads: filtered, corpus (through the index), clusters. Writes: kept (QueryRecord with
roundtrip_rank / roundtrip_score / roundtrip_match / roundtrip_hit), roundtrip_rejected.
Stats: in, kept, rejected, not_selected, source_rank histogram (rank of the first hit), match
counts.
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
    same = ctx.run.store.equivalence(cfg.roundtrip.match) if records else None
    kept, rejected, ranks = roundtrip_filter(records, load_index(cfg, ctx.run), get_embedder(cfg.embedder),
                                             cfg.roundtrip.top_k, same)
    kept, not_selected = select_per_passage(kept, cfg.roundtrip.keep_per_passage)
    write_records(shard.roundtrip_rejected, rejected + not_selected)
    write_records(shard.kept, kept)
    return {"in": len(records), "kept": len(kept), "rejected": len(rejected), "not_selected": len(not_selected),
            "source_rank": rank_histogram(ranks),
            "match": dict(Counter(r.roundtrip_match or "passage" for r in kept))}


def _funnel(f: Any, stats: dict[str, Any]) -> None:
    f.source_rank.update(Counter(stats.get("source_rank", {})))
    f.roundtrip_match.update(Counter(stats.get("match", {})))


ROUNDTRIP = Stage("roundtrip", "shard", reads=("filtered", "corpus", "clusters"), writes=("kept", "roundtrip_rejected"),
                  run=roundtrip, rejected="roundtrip_rejected", group="queries",
                  counts=(("kept", "roundtrip_kept"),), funnel=_funnel)
