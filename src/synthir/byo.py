"""Bring your own pairs: run the filters, the round trip and the mining (and, if configured,
document generation and verification) on pairs a user already has, over a corpus.

    synthir filter PAIRS_FILE CONFIG.yaml --out DIR

PAIRS_FILE: JSONL or Parquet rows with `query`, `passage_id` and optionally `language`
(default: the passage's language). Rows without a query, with an unknown passage or with an
unknown language code are published in `rejected` (stage filter) with their reason. The run
uses the same stages and layout as `synthir run`; no LLM is called unless
`generation.documents` asks for documents.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from data_schemas.config import RunConfig
from data_schemas.languages import language_name
from data_schemas.records import Passage, Provenance, QueryRecord, Rejected
from synthir.errors import InputError
from synthir.filters.contamination import eval_set
from synthir.generators import document_generators
from synthir.ids import content_id
from synthir.io.files import write_json_atomic, write_jsonl_atomic
from synthir.runpaths import RunPaths, prepare_run

METHOD = "byo"


def read_pairs(path: Path) -> list[dict[str, Any]]:
    """Rows of a JSONL or Parquet pairs file (a bad JSON line becomes {"_error": ...})."""
    if not path.is_file():
        raise InputError(f"pairs file not found: {path}")
    if path.suffix == ".parquet":
        try:
            return pq.read_table(path).to_pylist()
        except Exception as exc:  # not Parquet, truncated, ...: an input error, not a crash
            raise InputError(f"pairs file {path} is not readable Parquet: {exc}") from None
    rows = []
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"pairs file {path} is not UTF-8 JSONL ({exc.reason} at byte {exc.start})") from None
    for i, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            obj = {"_error": f"line {i}: invalid JSON ({exc.msg})"}
        rows.append(obj if isinstance(obj, dict) else {"_error": f"line {i}: not an object"})
    return rows


def _provenance(sha: str) -> Provenance:
    return Provenance(generator=METHOD, template="", template_sha256="", examples_sha256=sha,
                      model="", backend="", sampling={}, seed=0)


def load_pairs(cfg: RunConfig, paths: RunPaths, pairs_file: Path) -> dict[str, Any]:
    """Turn the pairs into shards (passages.jsonl + queries.jsonl + generate.done.json, as if
    generated) so the filter, round-trip and mining stages run unchanged. Needs the corpus
    ingested (corpus.parquet). Output: stats {rows, loaded, rejected by reason}."""
    marker = paths.work / "byo.done.json"
    if marker.exists():
        return json.loads(marker.read_text(encoding="utf-8"))
    rows = read_pairs(pairs_file)
    sha = hashlib.sha256(pairs_file.read_bytes()).hexdigest()
    wanted = {str(r.get("passage_id")) for r in rows if "_error" not in r}
    passages: dict[str, Passage] = {}
    for batch in pq.ParquetFile(paths.corpus).iter_batches(batch_size=8192):
        for p in batch.to_pylist():
            if p["id"] in wanted:
                passages[p["id"]] = Passage(**p)
    records: list[QueryRecord] = []
    rejected: list[Rejected] = []
    for i, row in enumerate(rows):
        query = row.get("query")
        pid = str(row.get("passage_id", ""))
        item = content_id(METHOD, i, query, pid)
        reason = None
        if "_error" in row:
            reason, detail = "malformed_row", row["_error"]
        elif not isinstance(query, str) or not query.strip():
            reason, detail = "empty", "no query text"
        elif pid not in passages:
            reason, detail = "unknown_passage", f"no passage with id {pid!r} in the corpus"
        else:
            lang = row.get("language") or passages[pid].lang
            try:
                language_name(lang)
            except ValueError:
                reason, detail = "unknown_language", f"language {lang!r} is not an ISO 639-1 code"
        if reason:
            rejected.append(Rejected(id=content_id("filter", item, reason), stage="filter",
                                     reason=reason, detail=detail, item_id=item, passage_id=pid,
                                     raw=str(query)[:500], method=METHOD))
            continue
        p = passages[pid]
        records.append(QueryRecord(id=content_id(METHOD, query, pid, lang), query=" ".join(query.split()),
                                   passage_id=pid, query_lang=lang, passage_lang=p.lang,
                                   cross_lingual=lang != p.lang, provenance=_provenance(sha),
                                   method=METHOD))
    write_jsonl_atomic(paths.ingest / "byo_rejected.jsonl", rejected)
    by_passage: dict[str, list[QueryRecord]] = {}
    for r in records:
        by_passage.setdefault(r.passage_id, []).append(r)
    ids = sorted(by_passage)
    for s, start in enumerate(range(0, len(ids), cfg.shard_size)):
        shard = paths.shards / f"{s:05d}"
        chunk = ids[start:start + cfg.shard_size]
        write_jsonl_atomic(shard / "passages.jsonl", [passages[i] for i in chunk])
        recs = [r for i in chunk for r in by_passage[i]]
        write_jsonl_atomic(shard / "queries.jsonl", recs)
        write_jsonl_atomic(shard / "generate_rejected.jsonl", [])
        requested: dict[str, dict[str, int]] = {METHOD: {}}
        for r in recs:
            requested[METHOD][r.query_lang] = requested[METHOD].get(r.query_lang, 0) + 1
        write_json_atomic(shard / "generate.done.json", {
            "prompts": 0, "requested": requested, "parsed": len(recs), "rejected": 0,
            "llm_errors": 0, "complete": True, "seconds": 0.0, "model": None, "backend": None,
            "tokens": {"prompt": 0, "completion": 0, "cached_calls": 0, "calls": 0}})
    stats = {"rows": len(rows), "loaded": len(records), "rejected": len(rejected),
             "pairs_sha256": sha}
    write_json_atomic(marker, stats)
    return stats


def run_filter(cfg: RunConfig, pairs_file: Path, progress: bool = True) -> dict[str, Any]:
    """The whole bring-your-own-pairs job; returns the publish result (as `pipeline.run`)."""
    from synthir.pipeline import finish
    from synthir.stages import ingest_and_sample

    t0 = time.time()
    read_pairs(pairs_file)  # fail early, before any work, on a missing or unreadable file
    shas = {f"pairs:{pairs_file.name}": hashlib.sha256(pairs_file.read_bytes()).hexdigest()}
    for g in document_generators(cfg):
        shas.update(g.files())
    eval_set(cfg.contamination)  # a bad eval dir fails before any work
    paths = prepare_run(cfg, shas)
    ingest_and_sample(cfg, paths, progress=progress, sample=False)
    load_pairs(cfg, paths, pairs_file)
    return finish(cfg, paths, t0, llm=None, progress=progress)
