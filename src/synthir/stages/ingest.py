"""Stage `ingest` (whole run): stream the corpus once, write the normalised corpus, count bad
rows by reason, sample passages (seeded, stratified) and split them into shards.

Reads: the configured corpus. Writes: corpus (CorpusStore), ingest_rejected, passages of
every shard (`shard_size` each). Stats: corpus counts, fingerprint, sample guards.
`synthir filter` uses `ingest_corpus` (no sampling: its shards come from the user's pairs).
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

from synthir.io.corpus import CorpusReader
from synthir.rundir import write_records
from synthir.sampling import SampleResult, sample_passages
from synthir.stages.base import Context, Stage
from synthir.stages.common import bar


def _ingest(ctx: Context, sample: bool) -> dict[str, Any]:
    cfg, run = ctx.cfg, ctx.run
    reader = CorpusReader(cfg.corpus)
    writer = run.store.writer(cfg.corpus.batch_rows)
    progress = bar(None, "ingest corpus", "row", ctx.progress)

    def stream():
        for p in reader:
            progress.update(writer.add(p))
            yield p

    try:
        if sample:
            drawn = sample_passages(stream(), cfg.sample, random.Random(cfg.sample.seed))
        else:
            for _ in stream():
                pass
            drawn = SampleResult(passages=[], seen=0, skipped=Counter(), available=Counter())
        progress.update(writer.flush())
        writer.commit()
    except BaseException:
        writer.abort()
        raise
    finally:
        progress.close()
    write_records(run.ingest_rejected, reader.rejected)
    for i in range(0, len(drawn.passages), cfg.shard_size):
        write_records(run.shard(i // cfg.shard_size).passages, drawn.passages[i:i + cfg.shard_size])
    by_lang: dict[str, int] = {}
    for p in drawn.passages:
        by_lang[p.lang] = by_lang.get(p.lang, 0) + 1
    return {"corpus": dict(reader.counts), "fingerprint": reader.fingerprint(),
            "sample": {"seen": drawn.seen, "skipped": dict(drawn.skipped),
                       "eligible": dict(drawn.available), "sampled": len(drawn.passages),
                       "sampled_by_lang": by_lang}}


def ingest_and_sample(ctx: Context) -> dict[str, Any]:
    return _ingest(ctx, sample=True)


def ingest_corpus(ctx: Context) -> dict[str, Any]:
    return _ingest(ctx, sample=False)


def _funnel(f: Any, stats: dict[str, Any]) -> None:
    f.ingest, f.sample = stats["corpus"], stats["sample"]


INGEST = Stage("ingest", "run", reads=(), writes=("corpus", "ingest_rejected", "passages"),
               run=ingest_and_sample, rejected="ingest_rejected", funnel=_funnel)
