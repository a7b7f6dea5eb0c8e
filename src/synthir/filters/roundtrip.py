"""Round-trip filter (Promptagator; Alberti et al., 2019 "Synthetic QA Corpora Generation with
Roundtrip Consistency"): retrieve with each generated query over the WHOLE corpus index and keep
the pair only if its source passage ranks in the top-K.

A passage that stands for the source counts as a hit: a duplicate of it (same cluster,
synthir.dedup) and, with `roundtrip.match: document`, another passage of its document. So a
near-copy of the source that outranks it never costs the pair its round trip.

`source_ranks` is the same search without the split: the filter stage uses it to give a query
written for several passages to the one it retrieves best (synthir.filters.queries).

Inputs: QueryRecords, a CorpusIndex over every ingested passage, the embedder that built it,
top_k, and `same(source id, other id) -> "duplicate" | "document" | None`. Outputs: kept
records (with `roundtrip_rank`, 1-based, `roundtrip_score`, `roundtrip_match` passage |
duplicate | document and `roundtrip_hit`, the id that was found) and
Rejected(stage="roundtrip", reason="source_not_in_top_k") whose detail gives the source's rank
within the diagnostic depth (or "> depth") and the passage that ranked first.
"""

from __future__ import annotations

from collections.abc import Callable

from data_schemas.records import QueryRecord, Rejected
from synthir.embed.base import Embedder
from synthir.ids import content_id
from synthir.index import CorpusIndex

DIAGNOSTIC_DEPTH = 10


def rank_histogram(ranks: list[int | None], depth: int = DIAGNOSTIC_DEPTH) -> dict[str, int]:
    """Counts of the source passage's rank: "1".."depth" and ">depth" (not found)."""
    hist = {str(r): 0 for r in range(1, depth + 1)}
    hist[f">{depth}"] = 0
    for r in ranks:
        key = str(r) if r is not None and r <= depth else f">{depth}"
        hist[key] = hist.get(key, 0) + 1
    return hist


Same = Callable[[str, str], str | None]


def first_hit(source: str, ids: list[str], same: Same | None) -> tuple[int, str, str] | None:
    """(1-based rank, id, match) of the first of `ids` that is `source` or stands for it."""
    for k, pid in enumerate(ids):
        if pid == source:
            return k + 1, pid, "passage"
        kind = same(source, pid) if same else None
        if kind:
            return k + 1, pid, kind
    return None


def search_sources(records: list[QueryRecord], index: CorpusIndex, embedder: Embedder, depth: int,
                   same: Same | None = None) -> list[tuple[tuple[int, str, str] | None, list[float], list[str]]]:
    """Per record, in order: (first_hit of its source in the top `depth`, the row's scores,
    the row's ids) for the record's query searched over the whole corpus index."""
    if not records:
        return []
    scores, ids = index.search(embedder.encode([r.query for r in records], "query"), depth)
    return [(first_hit(rec.passage_id, list(row_ids), same), list(row_scores), list(row_ids))
            for rec, row_scores, row_ids in zip(records, scores, ids)]


def source_ranks(records: list[QueryRecord], index: CorpusIndex, embedder: Embedder, depth: int,
                 same: Same | None = None) -> list[tuple[int | None, float]]:
    """Per record: (1-based rank of its source passage, or of the first passage standing for
    it, None below `depth`; that passage's score, 0.0 when not found). The filter stage uses it
    to decide which of two near-identical queries written for different passages to keep."""
    return [(hit[0], float(row_scores[hit[0] - 1])) if hit else (None, 0.0)
            for hit, row_scores, _ in search_sources(records, index, embedder, depth, same)]


def in_top_k(rank: int | None, top_k: int) -> bool:
    """The round trip's test: the source (or a passage standing for it) ranks within `top_k`."""
    return rank is not None and rank <= top_k


def roundtrip_filter(records: list[QueryRecord], index: CorpusIndex, embedder: Embedder,
                     top_k: int, same: Same | None = None
                     ) -> tuple[list[QueryRecord], list[Rejected], list[int | None]]:
    """Split records into (kept, rejected) by the rank of their source passage (or of the
    first passage standing for it); also return that rank per record, in input order (None:
    below the diagnostic depth)."""
    if not records:
        return [], [], []
    depth = max(top_k, DIAGNOSTIC_DEPTH)
    kept: list[QueryRecord] = []
    rejected: list[Rejected] = []
    ranks: list[int | None] = []
    for rec, (hit, row_scores, row_ids) in zip(records, search_sources(records, index, embedder, depth, same)):
        rank = hit[0] if hit else None
        ranks.append(rank)
        if hit is not None and in_top_k(rank, top_k):
            kept.append(rec.model_copy(update={"roundtrip_rank": rank, "roundtrip_score": float(row_scores[rank - 1]),
                                               "roundtrip_match": hit[2], "roundtrip_hit": hit[1]}))
            continue
        where = f"rank {rank}" if rank else f"rank > {depth}"
        rejected.append(Rejected(
            id=content_id("roundtrip", rec.id), stage="roundtrip", reason="source_not_in_top_k",
            detail=f"source at {where} (top_k={top_k}); top-1 {row_ids[0]} score {row_scores[0]:.3f}",
            item_id=rec.id, passage_id=rec.passage_id, lang=rec.query_lang, raw=rec.query))
    return kept, rejected, ranks


def select_per_passage(kept: list[QueryRecord], keep: int | None) -> tuple[list[QueryRecord], list[Rejected]]:
    """Oversample and select (Promptagator samples several queries per passage, then filters):
    of the round-trip kept queries of one (passage, method, query language), keep the best
    `keep` by source rank, then score (higher first), then id; the rest become
    Rejected(stage="roundtrip", reason="not_selected"). They were already deduplicated among
    themselves by the filter stage. `keep` None: every query is kept. Order of `kept` is kept."""
    if keep is None:
        return kept, []
    groups: dict[tuple[str, str, str], list[QueryRecord]] = {}
    for rec in kept:
        groups.setdefault((rec.passage_id, rec.method, rec.query_lang), []).append(rec)
    chosen: set[str] = set()
    for recs in groups.values():
        best = sorted(recs, key=lambda r: (r.roundtrip_rank or 10**9, -(r.roundtrip_score or 0.0), r.id))
        chosen.update(r.id for r in best[:keep])
    out = [r for r in kept if r.id in chosen]
    rejected = [Rejected(id=content_id("select", r.id), stage="roundtrip", reason="not_selected",
                         detail=f"rank {r.roundtrip_rank}, score {r.roundtrip_score:.3f}: not among the best "
                                f"{keep} kept for this passage (roundtrip.keep_per_passage)",
                         item_id=r.id, passage_id=r.passage_id, lang=r.query_lang, raw=r.query)
                for r in kept if r.id not in chosen]
    return out, rejected
