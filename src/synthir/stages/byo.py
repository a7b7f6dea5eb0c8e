"""The stages that replace ingest + generate for `synthir filter` (bring your own pairs): the
corpus is ingested without sampling, the user's pairs become QueryRecords (`byo_load`), and
the `generate` stage's outputs are written from them (same writer, same marker), so the
filter, round-trip, documents, verify and mine stages run unchanged.

PAIRS_FILE rows: `query`, `passage_id` and optionally `language` (default: the passage's
language). Rows without a query, with an unknown passage or with an unknown language code are
published in `rejected` (stage filter) with their reason.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from data_schemas.languages import is_cross_lingual, language_name, normalize_language
from data_schemas.records import Passage, Provenance, QueryRecord, Rejected
from synthir.errors import InputError
from synthir.ids import content_id
from synthir.rundir import read_records, write_records
from synthir.stages.base import Context, Stage
from synthir.stages.generate import GENERATE, write_output
from synthir.stages.ingest import INGEST, ingest_corpus

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


def _check(row: dict[str, Any], passages: dict[str, Passage]) -> tuple[str, str] | None:
    """(reason, detail) when the row cannot be used, else None."""
    query, pid = row.get("query"), str(row.get("passage_id", ""))
    if "_error" in row:
        return "malformed_row", row["_error"]
    if not isinstance(query, str) or not query.strip():
        return "empty", "no query text"
    if pid not in passages:
        return "unknown_passage", f"no passage with id {pid!r} in the corpus"
    lang = normalize_language(row.get("language") or passages[pid].lang)
    try:
        language_name(lang)
    except ValueError:
        return "unknown_language", f"language {lang!r} is not an ISO 639-1 code"
    return None


def load_pairs(ctx: Context) -> dict[str, Any]:
    """Stage `byo_load` (params: pairs_file; the run fingerprint holds the file's sha256):
    validate the pairs file against the ingested corpus; write the usable
    ones as QueryRecords (byo_pairs), the rest as Rejected (byo_rejected), and the pairs'
    passages into shards of `shard_size` passages."""
    cfg, run = ctx.cfg, ctx.run
    pairs_file = Path(ctx.params["pairs_file"])
    rows = read_pairs(pairs_file)
    sha = hashlib.sha256(pairs_file.read_bytes()).hexdigest()
    passages = run.store.passages(str(r.get("passage_id")) for r in rows if "_error" not in r)
    records: list[QueryRecord] = []
    rejected: list[Rejected] = []
    for i, row in enumerate(rows):
        query, pid = row.get("query"), str(row.get("passage_id", ""))
        item = content_id(METHOD, i, query, pid)
        problem = _check(row, passages)
        if problem:
            rejected.append(Rejected(id=content_id("filter", item, problem[0]), stage="filter",
                                     reason=problem[0], detail=problem[1], item_id=item, passage_id=pid,
                                     raw=str(query)[:500], method=METHOD))
            continue
        p = passages[pid]
        lang = normalize_language(row.get("language") or p.lang)
        records.append(QueryRecord(id=content_id(METHOD, query, pid, lang), query=" ".join(query.split()),
                                   passage_id=pid, query_lang=lang, passage_lang=p.lang,
                                   cross_lingual=is_cross_lingual(lang, p.lang), provenance=_provenance(sha), method=METHOD))
    write_records(run.byo_rejected, rejected)
    write_records(run.byo_pairs, records)
    ids = sorted({r.passage_id for r in records})
    for s, start in enumerate(range(0, len(ids), cfg.shard_size)):
        write_records(run.shard(s).passages, [passages[i] for i in ids[start:start + cfg.shard_size]])
    return {"rows": len(rows), "loaded": len(records), "rejected": len(rejected), "pairs_sha256": sha}


def pairs_as_generated(ctx: Context) -> dict[str, Any]:
    """Stage `generate` of `synthir filter`: the shard's loaded pairs, written as the generate
    stage's outputs (no LLM call)."""
    shard = ctx.sh
    ids = {p.id for p in read_records(shard.passages, Passage)}
    recs = [r for r in read_records(ctx.run.byo_pairs, QueryRecord) if r.passage_id in ids]
    recs.sort(key=lambda r: r.passage_id)  # by passage, each passage's pairs in file order
    requested: dict[str, dict[str, int]] = {METHOD: {}}
    for r in recs:
        requested[METHOD][r.query_lang] = requested[METHOD].get(r.query_lang, 0) + 1
    return write_output(shard, recs, [], {
        "prompts": 0, "requested": requested, "parsed": len(recs), "rejected": 0, "llm_errors": 0,
        "complete": True, "model": None, "backend": None,
        "tokens": {"prompt": 0, "completion": 0, "cached_calls": 0, "calls": 0}})


BYO_INGEST = replace(INGEST, run=ingest_corpus)
BYO_LOAD = Stage("byo_load", "run", reads=("corpus",), writes=("byo_pairs", "byo_rejected"),
                 run=load_pairs, rejected="byo_rejected")
BYO_GENERATE = replace(GENERATE, reads=("passages", "byo_pairs"), run=pairs_as_generated)
