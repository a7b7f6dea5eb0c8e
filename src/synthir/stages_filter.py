"""The filtering stages around the round trip (no LLM):

filter_stage (whole run, before the round trip: cheap lexical / language / duplicate filters)
and, after the documents stage, verify_shard (embedding checks of generated documents) and
mine_shard (mined hard negatives from the corpus index). Each writes its outputs atomically
and a done-marker keyed by the hash of its inputs, so a re-run redoes only what changed.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from data_schemas.config import RunConfig
from data_schemas.records import DocumentRecord, Passage, QueryRecord
from synthir.embed.registry import get_embedder
from synthir.filters import contamination
from synthir.filters.queries import filter_queries, reject_query
from synthir.filters.verify import cross_encoder_scorer, embedder_scorer, reject_document, verify_documents
from synthir.io.files import read_jsonl, write_json_atomic, write_jsonl_atomic
from synthir.langid import LanguageID
from synthir.runpaths import RunPaths


def _sha(paths: list[Path]) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(str(p.name).encode())
        h.update(p.read_bytes() if p.exists() else b"<missing>")
    return h.hexdigest()


def _sha_with_eval(paths: list[Path], cfg: RunConfig) -> str:
    """_sha of `paths`, plus the contamination guard's eval set (a new eval set redoes the stage)."""
    ev = contamination.eval_set(cfg.contamination)
    return _sha(paths) + (ev.sha256 if ev else "")


def _done(marker: Path, sha: str) -> dict[str, Any] | None:
    if marker.exists():
        stats = json.loads(marker.read_text(encoding="utf-8"))
        if stats.get("input_sha256") == sha:
            return stats
    return None


def _guard(kept: list[Any], rejected: list[Any], cfg: RunConfig, kind: str
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


def filter_stage(cfg: RunConfig, paths: RunPaths) -> dict[str, Any]:
    """Filter every shard's parsed queries together (duplicates are found across the run),
    then drop near-duplicates of eval queries (contamination guard, if configured).

    Output: per shard filtered.jsonl + filter_rejected.jsonl; filter.done.json with stats
    {in, kept, language: {lang: {checked, agree}}, contamination, seconds}.
    """
    shards = paths.shard_dirs()
    sha = _sha_with_eval([s / "queries.jsonl" for s in shards], cfg)
    marker = paths.work / "filter.done.json"
    stats = _done(marker, sha)
    if stats is not None:
        return stats
    t0 = time.time()
    records: list[QueryRecord] = []
    shard_of: dict[str, Path] = {}
    passages: dict[str, Passage] = {}
    for shard in shards:
        for r in read_jsonl(shard / "passages.jsonl"):
            passages[r["id"]] = Passage(**r)
        for r in read_jsonl(shard / "queries.jsonl"):
            rec = QueryRecord(**r)
            records.append(rec)
            shard_of[rec.id] = shard
    langid = filter_langid(cfg)
    kept, rejected, stats = filter_queries(records, passages, cfg.filters, langid)
    kept, rejected, stats["contamination"] = _guard(kept, rejected, cfg, "queries")
    out_kept: dict[Path, list] = defaultdict(list)
    out_rej: dict[Path, list] = defaultdict(list)
    for rec in kept:
        out_kept[shard_of[rec.id]].append(rec)
    for rej in rejected:
        out_rej[shard_of[rej.item_id]].append(rej)
    for shard in shards:
        write_jsonl_atomic(shard / "filter_rejected.jsonl", out_rej[shard])
        write_jsonl_atomic(shard / "filtered.jsonl", out_kept[shard])
    stats.update(input_sha256=sha, seconds=round(time.time() - t0, 3))
    write_json_atomic(marker, stats)
    return stats


def verify_shard(cfg: RunConfig, paths: RunPaths, shard: Path) -> dict[str, Any]:
    """Drop the shard's generated documents that near-duplicate eval documents (contamination
    guard, if configured), then verify the rest (see synthir.filters.verify).

    Output: verified_documents.jsonl, verify_rejected.jsonl, verify.done.json.
    """
    docs_path = shard / "documents.jsonl"
    sha = _sha_with_eval([docs_path], cfg)
    marker = shard / "verify.done.json"
    stats = _done(marker, sha)
    if stats is not None:
        return stats
    t0 = time.time()
    docs = [DocumentRecord(**r) for r in read_jsonl(docs_path)] if docs_path.exists() else []
    docs, guarded, contaminated = _guard(docs, [], cfg, "documents")
    if cfg.verify.enabled and docs:
        positives = {r["id"]: r["text"] for r in read_jsonl(shard / "passages.jsonl")}
        scorers = {"embedder": embedder_scorer(get_embedder(cfg.embedder))}
        if cfg.verify.cross_encoder:
            scorers["cross_encoder"] = cross_encoder_scorer(cfg.verify.cross_encoder)
        kept, rejected, stats = verify_documents(docs, positives, scorers, cfg.verify)
    else:
        kept, rejected, stats = docs, [], {"in": len(docs), "kept": len(docs), "scorers": []}
    rejected = guarded + rejected
    stats["contamination"] = contaminated
    write_jsonl_atomic(shard / "verify_rejected.jsonl", rejected)
    write_jsonl_atomic(shard / "verified_documents.jsonl", kept)
    stats.update(input_sha256=sha, seconds=round(time.time() - t0, 3))
    write_json_atomic(marker, stats)
    return stats


def mine_shard(cfg: RunConfig, paths: RunPaths, shard: Path) -> dict[str, Any]:
    """Mine hard negatives for one shard's kept pairs (see synthir.filters.mining).

    Output: negatives.jsonl (MinedNegative), mine.done.json with skip counts per reason.
    """
    import numpy as np

    from synthir.filters.mining import mine_negatives
    from synthir.stages import load_index

    kept_path = shard / "kept.jsonl"
    sha = _sha([kept_path])
    marker = shard / "mine.done.json"
    stats = _done(marker, sha)
    if stats is not None:
        return stats
    t0 = time.time()
    records = [QueryRecord(**r) for r in read_jsonl(kept_path)]
    negatives: list = []
    stats = {"queries": len(records)}
    if cfg.mining.num_negatives and records:
        index = load_index(cfg, paths)
        meta = json.loads(paths.index_meta.read_text(encoding="utf-8"))
        embeddings = np.load(meta["embeddings"], mmap_mode="r")
        row_of = {pid: i for i, pid in enumerate(index.ids)}
        rng = random.Random(f"{cfg.sample.seed}:{shard.name}")
        negatives, stats = mine_negatives(records, index, get_embedder(cfg.embedder), embeddings,
                                          row_of, paths.corpus_texts,
                                          cfg.mining, rng)
    write_jsonl_atomic(shard / "negatives.jsonl", negatives)
    stats.update(input_sha256=sha, seconds=round(time.time() - t0, 3))
    write_json_atomic(marker, stats)
    return stats
