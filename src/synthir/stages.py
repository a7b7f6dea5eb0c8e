"""The stages of the main job, each a plain function over files in the run dir.

ingest_and_sample -> [per shard] generate_shard -> filter_stage (stages_filter) ->
index_corpus -> [per shard] roundtrip_shard -> [per shard] documents_shard -> verify_shard,
mine_shard (stages_filter) -> publish. A stage whose done-marker exists returns its recorded
stats (resume); every stage writes its outputs atomically. Local runner: `synthir.pipeline.run`; Prefect: `flows/generate.py`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import socket
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from tqdm.auto import tqdm

from data_schemas.config import RunConfig
from data_schemas.records import DocumentRecord, Passage, QueryRecord, Rejected
from synthir.cachedir import cache_root
from synthir.embed.registry import get_embedder
from synthir.filters.roundtrip import rank_histogram, roundtrip_filter
from synthir.generators import document_generators, language_checker, query_generators
from synthir.generators.common import PromptItem
from synthir.index import CorpusIndex, embed_corpus
from synthir.io.corpus import CorpusReader
from synthir.io.files import read_jsonl, write_json_atomic, write_jsonl_atomic
from synthir.llm.cache import CachedLLM
from synthir.llm.registry import get_llm, model_identity
from synthir.runpaths import RunPaths
from synthir.sampling import SampleResult, sample_passages

log = logging.getLogger(__name__)
CORPUS_SCHEMA = pa.schema([("id", pa.string()), ("title", pa.string()), ("text", pa.string()),
                           ("lang", pa.string())])


def _bar(total: int | None, desc: str, unit: str, progress: bool) -> tqdm:
    return tqdm(total=total, desc=desc, unit=unit, disable=not progress, leave=True, dynamic_ncols=True)


def ingest_and_sample(cfg: RunConfig, paths: RunPaths, progress: bool = False,
                      sample: bool = True) -> dict[str, Any]:
    """Stream the corpus once: write the normalised corpus Parquet, count bad rows by reason,
    sample passages (seeded, stratified) and split them into shards of `shard_size`.

    Output: stats dict (also ingest/stats.json); files corpus.parquet, ingest/rejected.jsonl,
    shards/NNNNN/passages.jsonl.
    """
    done = paths.ingest / "stats.json"
    if done.exists():
        return json.loads(done.read_text(encoding="utf-8"))
    t0 = time.time()
    reader = CorpusReader(cfg.corpus)
    paths.work.mkdir(parents=True, exist_ok=True)
    tmp = paths.corpus.with_name(".corpus.parquet.tmp")
    writer = pq.ParquetWriter(tmp, CORPUS_SCHEMA)
    buf: list[Passage] = []
    bar = _bar(None, "ingest corpus", "row", progress)

    def flush() -> None:
        if buf:
            writer.write_table(pa.Table.from_pylist([p.model_dump() for p in buf], schema=CORPUS_SCHEMA))
            bar.update(len(buf))
            buf.clear()

    def stream():
        for p in reader:
            buf.append(p)
            if len(buf) >= cfg.corpus.batch_rows:
                flush()
            yield p

    try:
        if sample:
            drawn = sample_passages(stream(), cfg.sample, random.Random(cfg.sample.seed))
        else:  # bring-your-own pairs: only the corpus is ingested
            for _ in stream():
                pass
            drawn = SampleResult(passages=[], seen=0, skipped=Counter(), available=Counter())
        flush()
        writer.close()
    except BaseException:
        writer.close()
        tmp.unlink(missing_ok=True)
        raise
    finally:
        bar.close()
    tmp.replace(paths.corpus)
    write_jsonl_atomic(paths.ingest / "rejected.jsonl", reader.rejected)
    for i in range(0, len(drawn.passages), cfg.shard_size):
        write_jsonl_atomic(paths.shards / f"{i // cfg.shard_size:05d}" / "passages.jsonl",
                           drawn.passages[i:i + cfg.shard_size])
    by_lang: dict[str, int] = {}
    for p in drawn.passages:
        by_lang[p.lang] = by_lang.get(p.lang, 0) + 1
    stats = {
        "corpus": dict(reader.counts), "fingerprint": reader.fingerprint(),
        "sample": {"seen": drawn.seen, "skipped": dict(drawn.skipped),
                   "eligible": dict(drawn.available), "sampled": len(drawn.passages),
                   "sampled_by_lang": by_lang},
        "seconds": round(time.time() - t0, 3),
    }
    write_json_atomic(done, stats)
    return stats


def _worker() -> str:
    """host:pid of this process (recorded per shard: which worker of a cluster ran it)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def make_llm(cfg: RunConfig) -> Any:
    """The configured backend (shared per process), behind the response cache if enabled; with
    the cache, the model is loaded only on the first prompt that is not cached."""
    if not cfg.llm.cache:
        return get_llm(cfg.llm)
    return CachedLLM(lambda: get_llm(cfg.llm), cache_root() / "responses.sqlite",
                     backend=cfg.llm.backend, model_id=model_identity(cfg.llm))


def send_order(items: list[PromptItem]) -> list[int]:
    """Indexes of `items` in the order they are sent: grouped by (method, language), so prompts
    that share a few-shot prefix go back to back and llama.cpp / vLLM reuse its KV cache (1.5x
    on the embedded model). Stable: the plan's order within a group."""
    return sorted(range(len(items)), key=lambda k: (items[k].method, items[k].lang))


def run_plan(llm: Any, plan: list[tuple[Any, list[PromptItem]]], langid: Any, ok_type: type,
             batch: int, bar: tqdm | None = None) -> tuple[list[Any], list[Rejected], dict[str, Any]]:
    """Send every (generator, prompts) of `plan` through `llm` in batches and parse each
    sample with the generator's parser. Returns (records, rejected, stats) where stats has
    prompts, requested {method: {lang: samples}}, parsed, rejected, llm_errors, complete
    (no failed call: else the stage is redone on the next run, its successful calls coming
    back from the response cache) and tokens."""
    records: list[Any] = []
    rejected: list[Rejected] = []
    tokens: Counter = Counter()
    requested: dict[str, dict[str, int]] = {}
    for gen, items in plan:
        params = gen.sampling_params()
        for it in items:
            requested.setdefault(it.method, {}).setdefault(it.lang, 0)
            requested[it.method][it.lang] += params.n
        results: dict[int, list[Any]] = {}
        order = send_order(items)
        for i in range(0, len(order), batch):
            idx = order[i:i + batch]
            chunk = [items[k] for k in idx]
            for j, g in enumerate(llm.generate([it.text for it in chunk], params)):
                item, sample = chunk[j // params.n], j % params.n
                tokens["calls"] += 1
                if g.cached:
                    tokens["cached_calls"] += 1
                else:
                    tokens["prompt"] += g.prompt_tokens
                    tokens["completion"] += g.completion_tokens
                res = gen.parse(item, g, llm.backend, llm.model_id, langid=langid, sample=sample)
                results.setdefault(idx[j // params.n], []).append(res)
            if bar is not None:
                bar.update(len(chunk))
        for k in range(len(items)):  # records keep the plan's order, whatever the send order
            for res in results.get(k, []):
                (records if isinstance(res, ok_type) else rejected).append(res)
    errors = sum(1 for r in rejected if r.reason == "llm_error")
    stats = {"prompts": sum(len(items) for _, items in plan), "requested": requested,
             "parsed": len(records), "rejected": len(rejected), "llm_errors": errors,
             "complete": errors == 0,
             "tokens": {"prompt": 0, "completion": 0, "cached_calls": 0, "calls": 0, **tokens}}
    return records, rejected, stats


def generate_shard(cfg: RunConfig, paths: RunPaths, shard: Path, llm: Any = None,
                   progress: bool = False) -> dict[str, Any]:
    """Generate and parse queries for one shard of passages, with every configured query
    method (generation.queries) and target language.

    Output: stats (generate.done.json; `requested` counts samples per method and language;
    `complete` is false when some LLM calls failed, and the shard is then redone on the next
    run); queries.jsonl (QueryRecord) and generate_rejected.jsonl (generate + parse stages).
    """
    done = shard / "generate.done.json"
    if done.exists():
        stats = json.loads(done.read_text(encoding="utf-8"))
        if stats["complete"]:
            return stats
    t0 = time.time()
    generators = query_generators(cfg)
    langid = language_checker(cfg)
    passages = [Passage(**r) for r in read_jsonl(shard / "passages.jsonl")]
    plan = [(g, g.build_prompts(passages, cfg.languages)) for g in generators]
    llm = llm or make_llm(cfg)
    total = sum(len(items) for _, items in plan)
    with _bar(total, f"generate {shard.name}", "prompt", progress) as bar:
        records, rejected, stats = run_plan(llm, plan, langid, QueryRecord,
                                             max(1, cfg.llm.batch_size), bar)
    write_jsonl_atomic(shard / "generate_rejected.jsonl", rejected)
    write_jsonl_atomic(shard / "queries.jsonl", records)
    # A shard with failed LLM calls is published with them counted, and redone on the next
    # run (its successful calls come back from the response cache): no work is lost.
    stats.update(seconds=round(time.time() - t0, 3), model=llm.model_id, backend=llm.backend,
                 worker=_worker())
    write_json_atomic(done, stats)
    return stats


def documents_shard(cfg: RunConfig, paths: RunPaths, shard: Path, llm: Any = None,
                    progress: bool = False) -> dict[str, Any]:
    """Generate documents (graded / LLM negatives / HyDE, per generation.documents) for the
    queries of one shard that the round trip kept: no call is spent on a dropped query.

    Output: stats (documents.done.json; redone when kept.jsonl changed or calls failed);
    documents.jsonl (DocumentRecord) and documents_rejected.jsonl.
    """
    done = shard / "documents.done.json"
    kept_path = shard / "kept.jsonl"
    source = hashlib.sha256(kept_path.read_bytes()).hexdigest()
    if done.exists():
        stats = json.loads(done.read_text(encoding="utf-8"))
        if stats["kept_sha256"] == source and stats["complete"]:
            return stats
    t0 = time.time()
    generators = document_generators(cfg)
    queries = [QueryRecord(**r) for r in read_jsonl(kept_path)]
    passages = {p["id"]: Passage(**p) for p in read_jsonl(shard / "passages.jsonl")}
    plan = [(g, g.build_prompts(queries, passages)) for g in generators]
    total = sum(len(items) for _, items in plan)
    llm = (llm or make_llm(cfg)) if total else None  # no prompt: no model is loaded
    with _bar(total, f"documents {shard.name}", "prompt", progress) as bar:
        records, rejected, stats = run_plan(llm, plan, language_checker(cfg) if total else None,
                                             DocumentRecord, max(1, cfg.llm.batch_size), bar)
    write_jsonl_atomic(shard / "documents_rejected.jsonl", rejected)
    write_jsonl_atomic(shard / "documents.jsonl", records)
    stats.update(kept_sha256=source, seconds=round(time.time() - t0, 3),
                 model=llm.model_id if llm else None, backend=llm.backend if llm else None)
    write_json_atomic(done, stats)
    return stats


def index_corpus(cfg: RunConfig, paths: RunPaths, progress: bool = False) -> dict[str, Any]:
    """Embed the whole normalised corpus (cached by fingerprint + embedder) for the round trip.

    Output: index.json {embeddings, rows, embedder, index (what FAISS index, with which
    parameters), seconds, index_build_seconds}.
    """
    if paths.index_meta.exists():
        meta = json.loads(paths.index_meta.read_text(encoding="utf-8"))
        if "index" in meta:
            return meta
    t0 = time.time()
    fingerprint = json.loads((paths.ingest / "stats.json").read_text(encoding="utf-8"))["fingerprint"]
    embedder = get_embedder(cfg.embedder)
    rows = pq.ParquetFile(paths.corpus).metadata.num_rows
    with _bar(rows, "embed corpus", "passage", progress) as bar:
        emb = embed_corpus(paths.corpus, embedder, cache_root() / "embeddings", fingerprint,
                           progress=bar.update)
    meta = {"embeddings": str(emb), "rows": rows, "embedder": embedder.name,
            "seconds": round(time.time() - t0, 3)}
    write_json_atomic(paths.index_meta, meta)
    t1 = time.time()
    meta["index"] = load_index(cfg, paths).description
    meta["index_build_seconds"] = round(time.time() - t1, 3)
    write_json_atomic(paths.index_meta, meta)
    return meta


_INDEXES: dict[str, CorpusIndex] = {}


def load_index(cfg: RunConfig, paths: RunPaths) -> CorpusIndex:
    """The corpus index for this run (built once per process from the cached embeddings)."""
    meta = json.loads(paths.index_meta.read_text(encoding="utf-8"))
    ic = cfg.index
    key = f"{paths.corpus}:{meta['embeddings']}:{ic.model_dump_json()}"
    if key not in _INDEXES:
        ids = pq.read_table(paths.corpus, columns=["id"]).column("id").to_pylist()
        _INDEXES[key] = CorpusIndex.build(
            Path(meta["embeddings"]), ids, kind=ic.type, nlist=ic.nlist, nprobe=ic.nprobe,
            m=ic.hnsw_m, ef_construction=ic.ef_construction, ef_search=ic.ef_search,
            train_rows=ic.train_rows, seed=cfg.sample.seed)
    return _INDEXES[key]


def roundtrip_shard(cfg: RunConfig, paths: RunPaths, shard: Path) -> dict[str, Any]:
    """Round-trip filter one shard's parsed queries over the full corpus index.

    Input: filtered.jsonl (the queries that passed the cheap filters).
    Output: stats (roundtrip.done.json, with the source-rank distribution); kept.jsonl and
    roundtrip_rejected.jsonl.
    """
    done = shard / "roundtrip.done.json"
    queries = shard / "filtered.jsonl"
    source = hashlib.sha256(queries.read_bytes()).hexdigest()
    if done.exists():
        stats = json.loads(done.read_text(encoding="utf-8"))
        if stats["queries_sha256"] == source:  # else the shard was regenerated: redo
            return stats
    t0 = time.time()
    records = [QueryRecord(**r) for r in read_jsonl(queries)]
    kept, rejected, ranks = roundtrip_filter(records, load_index(cfg, paths), get_embedder(cfg.embedder),
                                      cfg.roundtrip.top_k)
    write_jsonl_atomic(shard / "roundtrip_rejected.jsonl", rejected)
    write_jsonl_atomic(shard / "kept.jsonl", kept)
    stats = {"in": len(records), "kept": len(kept), "rejected": len(rejected),
             "source_rank": rank_histogram(ranks),
             "queries_sha256": source, "seconds": round(time.time() - t0, 3)}
    write_json_atomic(done, stats)
    return stats
