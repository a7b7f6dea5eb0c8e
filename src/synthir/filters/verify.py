"""Verification of LLM-generated documents (the later "Don't Retrieve, Generate" finding:
unverified LLM negatives underperform mined ones).

- kind negative: score(query, negative) must be <= score(query, positive) - negative_margin,
  else `negative_too_close` (it may well answer the query: a false negative).
- kind graded: for each query, the documents' scores must follow their levels, 3 > 2 > 1 > 0,
  each neighbour by at least `graded_min_gap`, else every graded document of that query is
  rejected with `graded_order_violation` (the scale is only useful when it is consistent).
- kind hyde: not verified (a query expansion, not a training label).

Scores come from the embedder (cosine) and, when `verify.cross_encoder` is set, also from a
cross-encoder: both must agree. Input: DocumentRecords, {query_id: query text},
{passage_id: positive text}, scorers. Output: (kept, rejected, stats).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from data_schemas.config import VerifyConfig
from data_schemas.records import DocumentRecord, Rejected
from synthir.embed.base import Embedder
from synthir.ids import content_id

Scorer = Callable[[Sequence[tuple[str, str]]], np.ndarray]  # (query, text) pairs -> scores


def embedder_scorer(embedder: Embedder) -> Scorer:
    """Cosine (inner product of normalised embeddings) of each (query, text) pair."""
    def score(pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        if not pairs:
            return np.zeros(0, dtype=np.float32)
        qs = sorted({q for q, _ in pairs})
        ts = sorted({t for _, t in pairs})
        qv = dict(zip(qs, embedder.encode(qs, "query")))
        tv = dict(zip(ts, embedder.encode(ts, "passage")))
        return np.array([float(np.dot(qv[q], tv[t])) for q, t in pairs], dtype=np.float32)
    return score


def cross_encoder_scorer(path: str) -> Scorer:
    """A sentence-transformers CrossEncoder (local dir) as a scorer."""
    from sentence_transformers import CrossEncoder

    model = CrossEncoder(path, device="cpu")

    def score(pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        if not pairs:
            return np.zeros(0, dtype=np.float32)
        return np.asarray(model.predict(list(pairs), show_progress_bar=False), dtype=np.float32)
    return score


def reject_document(doc: DocumentRecord, reason: str, detail: str) -> Rejected:
    """A `verify`-stage Rejected row for a generated document."""
    return Rejected(id=content_id("verify", doc.id, reason), stage="verify", reason=reason,
                    detail=detail[:500], item_id=doc.id, passage_id=doc.passage_id, lang=doc.lang,
                    raw=doc.text[:500], method=doc.provenance.generator)


def verify_documents(docs: list[DocumentRecord], positives: dict[str, str],
                     scorers: dict[str, Scorer], cfg: VerifyConfig
                     ) -> tuple[list[DocumentRecord], list[Rejected], dict[str, Any]]:
    """See module doc. `scorers`: name -> scorer ("embedder", optionally "cross_encoder")."""
    pairs: list[tuple[str, str]] = []
    for d in docs:
        pairs.append((d.query, d.text))
        pairs.append((d.query, positives[d.passage_id]))
    scores = {name: s(pairs) for name, s in scorers.items()}
    bad: dict[str, tuple[str, str]] = {}
    graded: dict[str, list[tuple[int, int]]] = defaultdict(list)  # query_id -> [(level, doc idx)]
    for i, d in enumerate(docs):
        if d.kind == "negative":
            for name, sc in scores.items():
                s_doc, s_pos = float(sc[2 * i]), float(sc[2 * i + 1])
                if s_doc > s_pos - cfg.negative_margin:
                    bad[d.id] = ("negative_too_close", f"{name}: negative {s_doc:.3f} > positive "
                                 f"{s_pos:.3f} - margin {cfg.negative_margin}")
                    break
        elif d.kind == "graded" and d.level is not None:
            graded[d.query_id].append((d.level, i))
    for rows in graded.values():
        rows.sort(reverse=True)  # level 3 first
        for name, sc in scores.items():
            seq = [(lvl, float(sc[2 * i])) for lvl, i in rows]
            broken = [(a, b) for a, b in zip(seq, seq[1:]) if a[1] < b[1] + cfg.graded_min_gap]
            if broken:
                shown = ", ".join(f"level {lvl}: {s:.3f}" for lvl, s in seq)
                for _, i in rows:
                    bad[docs[i].id] = ("graded_order_violation", f"{name} scores not ordered 3>2>1>0 "
                                       f"(min gap {cfg.graded_min_gap}): {shown}")
                break
    first = scores[next(iter(scores))] if scores else None  # the embedder's, when present
    kept = [d.model_copy(update={"score": float(first[2 * i])}) if first is not None else d
            for i, d in enumerate(docs) if d.id not in bad]
    rejected = [reject_document(d, *bad[d.id]) for d in docs if d.id in bad]
    stats = {"in": len(docs), "kept": len(kept), "scorers": sorted(scorers)}
    return kept, rejected, stats
