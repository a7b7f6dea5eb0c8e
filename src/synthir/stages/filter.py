"""Stage `filter` (whole run, before the round trip): the cheap query filters over every
shard's parsed queries together, so near-duplicates are found across the run (length,
copied-from-passage, near-duplicates with rapidfuzz, language ID with lingua; see
synthir.filters.queries), then the contamination guard (near-copies of eval-set queries).
Near-identical queries written for different passages are resolved with the round trip's
search (`filters.duplicate_keep: roundtrip`): the first copy whose passage is in the round
trip's top-K is kept, else the best-ranked.

Reads: queries and passages of every shard (+ the eval set), the corpus index (corpus,
clusters). Writes: per shard filtered (QueryRecord) and filter_rejected. Stats: in, kept,
language {lang: {checked, agree}}, duplicates_resolved, contamination.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from data_schemas.config import RunConfig
from data_schemas.records import Passage, QueryRecord
from synthir.filters import contamination
from synthir.embed.registry import get_embedder
from synthir.filters.queries import Rank, filter_queries, reject_query
from synthir.filters.roundtrip import DIAGNOSTIC_DEPTH, source_ranks
from synthir.filters.verify import reject_document
from synthir.langid import LanguageID
from synthir.rundir import ShardDir, read_records, write_records
from synthir.stages.base import Context, Stage
from synthir.stages.index import load_index


def eval_key(cfg: RunConfig) -> str:
    """The contamination guard's eval set, as part of a stage's inputs (a new eval set redoes it)."""
    ev = contamination.eval_set(cfg.contamination)
    return ev.sha256 if ev else ""


def guard(kept: list[Any], rejected: list[Any], cfg: RunConfig, kind: str
          ) -> tuple[list[Any], list[Any], dict[str, Any]]:
    """Move the records of `kept` that near-duplicate the eval set to `rejected` (reason
    eval_contamination); kind "queries" (QueryRecord) or "documents" (DocumentRecord)."""
    texts = [r.query if kind == "queries" else r.text for r in kept]
    details, stats = contamination.check(texts, cfg.contamination, kind)
    reject = reject_query if kind == "queries" else reject_document
    rejected = rejected + [reject(kept[i], "eval_contamination", d) for i, d in sorted(details.items())]
    return [r for i, r in enumerate(kept) if i not in details], rejected, stats


def filter_langid(cfg: RunConfig) -> LanguageID | None:
    """The language checker of the filter stage (None when filters.language_check is off)."""
    return LanguageID(cfg.languages) if cfg.filters.language_check else None


def ranker(ctx: Context) -> Rank | None:
    """The round trip's search, for `filters.duplicate_keep: roundtrip` (None: keep the first).
    Lazy: the embedder and index are loaded only when the run has cross-passage duplicates."""
    cfg = ctx.cfg
    if cfg.filters.duplicate_keep != "roundtrip":
        return None

    def rank(records: list[QueryRecord]) -> list[tuple[int | None, float]]:
        same = ctx.run.store.equivalence(cfg.roundtrip.match)
        return source_ranks(records, load_index(cfg, ctx.run), get_embedder(cfg.embedder),
                            max(cfg.roundtrip.top_k, DIAGNOSTIC_DEPTH), same)
    return rank


def filter_run(ctx: Context) -> dict[str, Any]:
    cfg = ctx.cfg
    shards = ctx.run.shard_dirs()
    records: list[QueryRecord] = []
    shard_of: dict[str, ShardDir] = {}
    passages: dict[str, Passage] = {}
    for shard in shards:
        passages.update((p.id, p) for p in read_records(shard.passages, Passage))
        for rec in read_records(shard.queries, QueryRecord):
            records.append(rec)
            shard_of[rec.id] = shard
    kept, rejected, stats = filter_queries(records, passages, cfg.filters, filter_langid(cfg), ranker(ctx),
                                           cfg.roundtrip.top_k)
    kept, rejected, stats["contamination"] = guard(kept, rejected, cfg, "queries")
    out_kept: dict[ShardDir, list] = defaultdict(list)
    out_rej: dict[ShardDir, list] = defaultdict(list)
    for rec in kept:
        out_kept[shard_of[rec.id]].append(rec)
    for rej in rejected:
        out_rej[shard_of[rej.item_id]].append(rej)
    for shard in shards:
        write_records(shard.filter_rejected, out_rej[shard])
        write_records(shard.filtered, out_kept[shard])
    return stats


def _funnel(f: Any, stats: dict[str, Any]) -> None:
    f.language.update(stats.get("language", {}))
    g = stats.get("contamination") or {}
    f.contamination.update({"queries_checked": g.get("checked", 0), "queries_dropped": g.get("dropped", 0),
                            "eval_queries": g.get("eval_queries", 0)})


FILTER = Stage("filter", "run", reads=("queries", "passages", "corpus", "clusters"),
               writes=("filtered", "filter_rejected"), run=filter_run, key=eval_key, rejected="filter_rejected",
               group="queries", counts=(("filtered", "filtered"),), funnel=_funnel)
