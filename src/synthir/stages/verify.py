"""Stage `verify` (per shard): drop generated documents that near-copy eval-set documents
(contamination guard), then verify the rest with the embedder (and a cross-encoder when
given): graded levels must be ordered, LLM negatives must score below the positive by a
margin (see synthir.filters.verify).

Reads: documents, passages, corpus (positives the judge promoted) (+ the eval set). Writes: verified_documents (DocumentRecord with
score), verify_rejected. Stats: in, kept, per-check counts, contamination.
"""

from __future__ import annotations

from typing import Any

from data_schemas.records import DocumentRecord, Passage
from synthir.embed.registry import get_embedder
from synthir.filters.verify import cross_encoder_scorer, embedder_scorer, verify_documents
from synthir.rundir import read_records, write_records
from synthir.stages.base import Context, Stage
from synthir.stages.filter import eval_key, guard


def verify(ctx: Context) -> dict[str, Any]:
    cfg, shard = ctx.cfg, ctx.sh
    docs = read_records(shard.documents, DocumentRecord, missing_ok=True)
    docs, guarded, contaminated = guard(docs, [], cfg, "documents")
    if cfg.verify.enabled and docs:
        positives = {p.id: p.text for p in read_records(shard.passages, Passage)}
        positives.update(ctx.run.store.texts({d.passage_id for d in docs} - set(positives)))  # judge-promoted
        scorers = {"embedder": embedder_scorer(get_embedder(cfg.embedder))}
        if cfg.verify.cross_encoder:
            scorers["cross_encoder"] = cross_encoder_scorer(cfg.verify.cross_encoder)
        kept, rejected, stats = verify_documents(docs, positives, scorers, cfg.verify)
    else:
        kept, rejected, stats = docs, [], {"in": len(docs), "kept": len(docs), "scorers": []}
    stats["contamination"] = contaminated
    write_records(shard.verify_rejected, guarded + rejected)
    write_records(shard.verified_documents, kept)
    return stats


def _funnel(f: Any, stats: dict[str, Any]) -> None:
    g = stats.get("contamination") or {}
    f.contamination["documents_checked"] += g.get("checked", 0)
    f.contamination["documents_dropped"] += g.get("dropped", 0)
    f.contamination["eval_documents"] = max(f.contamination["eval_documents"], g.get("eval_documents", 0))


VERIFY = Stage("verify", "shard", reads=("documents", "passages", "corpus"),
               writes=("verified_documents", "verify_rejected"), run=verify, key=eval_key, rejected="verify_rejected",
               group="documents", counts=(("verified_documents", "verified"),), funnel=_funnel)
