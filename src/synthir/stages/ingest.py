"""Stage `ingest` (whole run): stream the corpus once, write the normalised corpus, count bad
rows by reason, detect missing passage languages, find duplicate clusters, sample passages
(seeded, stratified, one per cluster) and split them into shards.

Reads: the configured corpus (its source fingerprint is the stage's `key`, so a corpus edited
in place is re-ingested, and the stages after it redo what its change touches). Documents
(folder / glob of .md, .html, .txt; rows with `corpus.chunk.rows`) are split into passages
of at most `corpus.chunk.max_tokens` embedder tokens. Writes: corpus (CorpusStore), clusters,
ingest_rejected, passages of every shard (`shard_size` each; shard dirs beyond the new count
are removed). Stats: corpus counts, fingerprint, source_sha256, languages (given / detected,
mean confidence), documents, clusters, sample guards. Sampling that leaves nothing stops the
run with InputError naming the sample.* key and what the corpus has.
`synthir filter` uses `ingest_corpus` (no sampling: its shards come from the user's pairs).
"""

from __future__ import annotations

import logging
import random
import shutil
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

from data_schemas.config import RunConfig
from data_schemas.records import Passage
from synthir.dedup import DuplicateFinder
from synthir.errors import InputError
from synthir.io.chunking import Chunker
from synthir.io.corpus import DETECT, CorpusReader, source_fingerprint
from synthir.rundir import write_records
from synthir.sampling import SampleResult, empty_sample_message, sample_passages
from synthir.stages.base import Context, Stage, read_marker
from synthir.stages.common import bar

log = logging.getLogger(__name__)


class Languages:
    """Fills in the language of passages that came without one (lingua, in batches) and counts
    given / detected languages and the detected ones' mean confidence."""

    def __init__(self, cfg: RunConfig) -> None:
        self.candidates = cfg.corpus.detect_languages
        self.given: Counter = Counter()
        self.detected: Counter = Counter()
        self.confidence: dict[str, float] = defaultdict(float)
        self._detector = None

    def annotate(self, passages: Iterable[Passage], batch: int) -> Iterator[Passage]:
        buf: list[Passage] = []
        for p in passages:
            buf.append(p)
            if len(buf) >= batch:
                yield from self._flush(buf)
                buf = []
        yield from self._flush(buf)

    def _flush(self, buf: list[Passage]) -> list[Passage]:
        todo = [i for i, p in enumerate(buf) if p.lang == DETECT]
        if todo:
            if self._detector is None:
                from synthir.langid import PassageLanguage

                self._detector = PassageLanguage(self.candidates)
            for i, (code, conf) in zip(todo, self._detector.detect([buf[i].text for i in todo])):
                buf[i] = buf[i].model_copy(update={"lang": code, "lang_confidence": conf})
                self.detected[code] += 1
                self.confidence[code] += conf
        for i, p in enumerate(buf):
            if p.lang_confidence is None:
                self.given[p.lang] += 1
        return buf

    def stats(self) -> dict[str, Any]:
        return {"given": dict(self.given.most_common()), "detected": dict(self.detected.most_common()),
                "mean_confidence": {k: round(self.confidence[k] / n, 4) for k, n in self.detected.items() if n}}


def make_chunker(cfg: RunConfig, fmt: str) -> Chunker | None:
    """The chunker of a documents corpus (or of rows with corpus.chunk.rows), else None."""
    if fmt != "documents" and not cfg.corpus.chunk.rows:
        return None
    from synthir.embed.tokens import token_counter

    return Chunker(cfg.corpus.chunk, token_counter(cfg.embedder))


def _write_shards(ctx: Context, passages: list[Passage]) -> None:
    run, size = ctx.run, ctx.cfg.shard_size
    n = (len(passages) + size - 1) // size
    for i in range(0, len(passages), size):
        write_records(run.shard(i // size).passages, passages[i:i + size])
    for stale in run.shard_dirs()[n:]:  # the corpus changed and fewer shards were drawn
        shutil.rmtree(stale.base)


def _ingest(ctx: Context, sample: bool) -> dict[str, Any]:
    cfg, run = ctx.cfg, ctx.run
    reader = CorpusReader(cfg.corpus)
    reader.chunker = make_chunker(cfg, reader.format)
    languages = Languages(cfg)
    dups = DuplicateFinder(cfg.corpus.dedup)
    writer = run.store.writer(cfg.corpus.batch_rows)
    progress = bar(None, "ingest corpus", "passage", ctx.progress)
    try:
        for p in languages.annotate(reader, cfg.corpus.batch_rows):
            progress.update(writer.add(p))
            dups.add(p.id, p.text)
        progress.update(writer.flush())
        writer.commit()
    except BaseException:
        writer.abort()
        raise
    finally:
        progress.close()
    clusters = dups.clusters()
    run.store.write_clusters(clusters)
    write_records(run.ingest_rejected, reader.rejected)
    if sample:
        drawn = sample_passages(run.store.iter_passages(), cfg.sample, random.Random(cfg.sample.seed),
                                clusters.cluster_of)
        if not drawn.passages:
            raise InputError(empty_sample_message(cfg.sample, drawn, bool(languages.detected)))
        _write_shards(ctx, drawn.passages)
    else:
        drawn = SampleResult(passages=[], seen=0, skipped=Counter(), available=Counter())
    by_lang: dict[str, int] = {}
    for p in drawn.passages:
        by_lang[p.lang] = by_lang.get(p.lang, 0) + 1
    source = source_fingerprint(cfg.corpus)
    old = read_marker(run.marker("ingest")) or {}
    stats: dict[str, Any] = {
        "corpus": dict(reader.counts), "fingerprint": reader.fingerprint(), "source_sha256": source,
        "reingested": bool(old.get("source_sha256")) and old.get("source_sha256") != source,
        "languages": languages.stats(), "clusters": clusters.stats(),
        "sample": {"seen": drawn.seen, "skipped": dict(drawn.skipped),
                   "eligible": dict(drawn.available), "sampled": len(drawn.passages),
                   "sampled_by_lang": by_lang, "cut_for_prompt": drawn.cut}}
    if reader.chunker is not None:
        c = reader.chunker
        stats["documents"] = {"documents": reader.counts["read"], "split": reader.counts.get("split", 0),
                              "passages": reader.counts["kept"], "tokenizer": c.tokens.name,
                              "max_tokens": c.cfg.max_tokens, "overlap": c.cfg.overlap}
    if stats["reingested"]:
        log.warning("corpus %s changed since it was ingested: re-ingested", cfg.corpus.path)
    return stats


def ingest_and_sample(ctx: Context) -> dict[str, Any]:
    return _ingest(ctx, sample=True)


def ingest_corpus(ctx: Context) -> dict[str, Any]:
    return _ingest(ctx, sample=False)


def corpus_key(cfg: RunConfig) -> str:
    """The ingest stage's extra input: the corpus source's content fingerprint."""
    return source_fingerprint(cfg.corpus)


def _funnel(f: Any, stats: dict[str, Any]) -> None:
    f.ingest, f.sample = stats["corpus"], stats["sample"]
    f.corpus = {k: stats.get(k) for k in ("languages", "clusters", "documents", "reingested")}


INGEST = Stage("ingest", "run", reads=(), writes=("corpus", "clusters", "ingest_rejected", "passages"),
               run=ingest_and_sample, key=corpus_key, rejected="ingest_rejected", funnel=_funnel)
