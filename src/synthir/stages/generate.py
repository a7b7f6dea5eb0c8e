"""Stage `generate` (per shard): generate and parse queries for the shard's passages with
every configured query method (generation.queries) and target language (Promptagator
few-shot, SWIM-IR summarize-then-ask; see synthir.generators.queries).

Reads: passages, example_pools (the pools of methods that bootstrap or probe: stage probe).
Writes: queries (QueryRecord), generate_rejected (failed calls: stage generate; unparsable
samples: stage parse). Stats: prompts, requested {method: {lang: n}},
parsed, rejected, llm_errors, complete, tokens, model, backend, worker. `write_output` is the
one writer of this stage's files (`synthir filter` loads the user's pairs through it).
"""

from __future__ import annotations

from typing import Any

from data_schemas.records import Passage, QueryRecord, Rejected
from synthir.generators import language_checker, query_generators
from synthir.rundir import ShardDir, read_records, write_records
from synthir.stages.base import Context, Stage
from synthir.stages.probe import pools
from synthir.stages.common import bar, make_llm, run_plan, worker


def write_output(shard: ShardDir, records: list[QueryRecord], rejected: list[Rejected],
                 stats: dict[str, Any]) -> dict[str, Any]:
    """Write the stage's outputs; return its stats."""
    write_records(shard.generate_rejected, rejected)
    write_records(shard.queries, records)
    return stats


def generate(ctx: Context) -> dict[str, Any]:
    cfg, shard = ctx.cfg, ctx.sh
    generators = query_generators(cfg, pools=pools(ctx.run))
    langid = language_checker(cfg)
    passages = read_records(shard.passages, Passage)
    plan = [(g, g.build_prompts(passages, cfg.languages)) for g in generators]
    llm = ctx.llm or make_llm(cfg)
    total = sum(len(items) for _, items in plan)
    with bar(total, f"generate {shard.name}", "prompt", ctx.progress) as b:
        records, rejected, stats = run_plan(llm, plan, langid, QueryRecord, max(1, cfg.llm.batch_size), b)
    # A shard with failed LLM calls is published with them counted, and redone on the next
    # run (its successful calls come back from the response cache): no work is lost.
    stats.update(model=llm.model_id, backend=llm.backend, worker=worker())
    return write_output(shard, records, rejected, stats)


GENERATE = Stage("generate", "shard", reads=("passages", "example_pools"), writes=("queries", "generate_rejected"),
                 run=generate, rejected="generate_rejected", group="queries",
                 counts=(("queries", "parsed"),), llm=True)
