"""Stage `documents` (per shard): graded documents 3/2/1/0 (SyCL), LLM hard negatives and HyDE
documents (generation.documents) for the queries the round trip (and the judge) KEPT: no call
is spent on a dropped query (see synthir.generators.documents). The positive is the judged one
(a promoted positive is read from the corpus).

Reads: judged, passages, corpus. Writes: documents (DocumentRecord), documents_rejected. Stats: as the
generate stage (prompts, requested, parsed, llm_errors, complete, tokens, model, backend).
No prompt: no model is loaded.
"""

from __future__ import annotations

from typing import Any

from data_schemas.records import DocumentRecord, QueryRecord
from synthir.generators import document_generators, language_checker
from synthir.rundir import read_records, write_records
from synthir.stages.base import Context, Stage
from synthir.stages.common import bar, make_llm, positive_passages, run_plan


def documents(ctx: Context) -> dict[str, Any]:
    cfg, shard = ctx.cfg, ctx.sh
    generators = document_generators(cfg)
    queries = read_records(shard.judged, QueryRecord)
    passages = positive_passages(ctx.run, shard, queries)
    plan = [(g, g.build_prompts(queries, passages)) for g in generators]
    total = sum(len(items) for _, items in plan)
    llm = (ctx.llm or make_llm(cfg)) if total else None
    with bar(total, f"documents {shard.name}", "prompt", ctx.progress) as b:
        records, rejected, stats = run_plan(llm, plan, language_checker(cfg) if total else None,
                                            DocumentRecord, max(1, cfg.llm.batch_size), b)
    write_records(shard.documents_rejected, rejected)
    write_records(shard.documents, records)
    stats.update(model=llm.model_id if llm else None, backend=llm.backend if llm else None)
    return stats


DOCUMENTS = Stage("documents", "shard", reads=("judged", "passages", "corpus"), writes=("documents", "documents_rejected"),
                  run=documents, rejected="documents_rejected", group="documents",
                  counts=(("documents", "parsed"),), llm=True)
