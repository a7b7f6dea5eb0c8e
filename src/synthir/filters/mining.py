"""Mined hard negatives with false-negative protection (after sentence-transformers'
`mine_hard_negatives`): for each kept (query, positive), retrieve from the whole corpus index
and keep candidates that

- rank in (range_min, range_max] (1-based ranks),
- are not the positive (nor an extra positive the judge added), nor a duplicate of it (same
  duplicate cluster, synthir.dedup; with `roundtrip.match: document` also a passage of its
  document), nor a near-duplicate of its text (rapidfuzz ratio), nor a passage another kept
  query with the same text has as positive, nor a passage the judge graded relevant (or could
  not grade) for this query,
- score <= positive_score - absolute_margin, and <= positive_score * (1 - relative_margin),
  and <= max_score,

then take `num_negatives` of them, the top-scoring ones or a seeded random sample. The
candidates the judge graded irrelevant are added as well, as verified hard negatives
(`source: judged`), whatever `num_negatives` (also when mining is off).
Inputs: kept QueryRecords, the CorpusIndex, the embedder, the corpus embeddings (memmap, for
the positive's score), a `texts(ids) -> {id: text}` lookup, MiningConfig, a seeded Random,
`same(positive id, other id) -> "duplicate" | "document" | None` (the round trip's) and the
judge's verdicts per query id (`Judged`). Output: (MinedNegative list, stats with a count per
reason a candidate was skipped).
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from rapidfuzz import fuzz, utils

from data_schemas.config import MiningConfig
from data_schemas.records import MinedNegative, QueryRecord
from synthir.embed.base import Embedder
from synthir.filters.roundtrip import Same
from synthir.ids import content_id
from synthir.index import CorpusIndex


@dataclass(frozen=True)
class Judged:
    """The judge's verdicts for one query: passages never to use as its negatives (`masked`:
    graded relevant, no verdict, the source) and the candidates graded irrelevant
    (`irrelevant`: (doc id, retrieval rank, retrieval score), verified hard negatives)."""

    masked: frozenset[str] = frozenset()
    irrelevant: tuple[tuple[str, int, float], ...] = field(default_factory=tuple)


def mine_negatives(records: list[QueryRecord], index: CorpusIndex, embedder: Embedder,
                   embeddings: np.ndarray, row_of: dict[str, int],
                   texts: Callable[[list[str]], dict[str, str]], cfg: MiningConfig,
                   rng: random.Random, same: Same | None = None, judged: dict[str, Judged] | None = None
                   ) -> tuple[list[MinedNegative], dict[str, int]]:
    """See module doc. Stats: queries, mined, judged (verified negatives added),
    queries_short (fewer than asked), and skipped candidates by reason: positive,
    other_positive, duplicate_of_positive, same_document_as_positive, judged_relevant,
    near_duplicate_of_positive, absolute_margin, relative_margin, max_score."""
    stats: Counter = Counter(queries=len(records))
    judged = judged or {}
    if not records or (cfg.num_negatives == 0 and not any(j.irrelevant for j in judged.values())):
        return [], dict(stats)
    positives_of: dict[str, set[str]] = defaultdict(set)
    for r in records:
        positives_of[utils.default_process(r.query)].update([r.passage_id, *r.extra_positives])
    qvec = embedder.encode([r.query for r in records], "query")
    depth = min(cfg.range_max + 1, len(index.ids))  # +1: the positive may take a slot
    scores, ids = index.search(qvec, depth)
    wanted = {pid for row in ids for pid in row} | {r.passage_id for r in records}
    text = texts(sorted(wanted))
    out: list[MinedNegative] = []
    for rec, q, row_scores, row_ids in zip(records, qvec, scores, ids):
        pos_score = float(np.dot(q, np.asarray(embeddings[row_of[rec.passage_id]], dtype=np.float32)))
        pos_text = utils.default_process(text.get(rec.passage_id, ""))
        own = {rec.passage_id, *rec.extra_positives}
        others = positives_of[utils.default_process(rec.query)] - own
        verdict = judged.get(rec.id, Judged())
        verified = {pid for pid, _, _ in verdict.irrelevant}
        candidates = []
        for rank0, (pid, score) in enumerate(zip(row_ids, row_scores)):
            rank = rank0 + 1
            if rank <= cfg.range_min or rank > cfg.range_max + 1 or pid in verified:
                continue
            reason = None
            kind = same(rec.passage_id, pid) if same and pid not in own else None
            if pid in own:
                reason = "positive"
            elif pid in others:
                reason = "other_positive"
            elif kind:
                reason = "duplicate_of_positive" if kind == "duplicate" else "same_document_as_positive"
            elif pid in verdict.masked:
                reason = "judged_relevant"
            elif fuzz.ratio(utils.default_process(text.get(pid, "")), pos_text) >= cfg.near_duplicate_ratio:
                reason = "near_duplicate_of_positive"
            elif cfg.absolute_margin is not None and score > pos_score - cfg.absolute_margin:
                reason = "absolute_margin"
            elif cfg.relative_margin is not None and score > pos_score * (1 - cfg.relative_margin):
                reason = "relative_margin"
            elif cfg.max_score is not None and score > cfg.max_score:
                reason = "max_score"
            if reason:
                stats[f"skipped_{reason}"] += 1
            else:
                candidates.append((rank, pid, float(score)))
        if cfg.sampling == "random" and len(candidates) > cfg.num_negatives:
            chosen = sorted(rng.sample(candidates, cfg.num_negatives))
        else:
            chosen = candidates[: cfg.num_negatives]
        if len(chosen) < cfg.num_negatives:
            stats["queries_short"] += 1
        rows = [(rank, pid, score, "mined") for rank, pid, score in chosen]
        rows += [(rank, pid, score, "judged") for pid, rank, score in verdict.irrelevant if pid not in own | others]
        for rank, pid, score, source in sorted(rows):
            stats[source] += 1
            out.append(MinedNegative(
                id=content_id(source, rec.id, pid), query_id=rec.id, query=rec.query,
                lang=rec.query_lang, positive_id=rec.passage_id, negative_id=pid, rank=rank,
                score=round(score, 6), positive_score=round(pos_score, 6), source=source))
    return out, dict(stats)
