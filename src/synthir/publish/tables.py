"""Arrow schemas and row builders for each published config (explicit schemas: an empty
config still has typed columns)."""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa

PROVENANCE = pa.struct([
    ("generator", pa.string()), ("template", pa.string()), ("template_sha256", pa.string()),
    ("examples_sha256", pa.string()), ("model", pa.string()), ("backend", pa.string()),
    ("sampling", pa.string()), ("seed", pa.int64()),
])

SCHEMAS: dict[str, pa.Schema] = {
    "pairs": pa.schema([
        ("id", pa.string()), ("query", pa.string()), ("positive", pa.string()),
        ("positive_id", pa.string()), ("positive_title", pa.string()),
        ("query_lang", pa.string()), ("passage_lang", pa.string()), ("cross_lingual", pa.bool_()),
        ("roundtrip_rank", pa.int32()), ("roundtrip_score", pa.float32()),
        ("method", pa.string()), ("summary", pa.string()), ("query_type", pa.string()),
        ("length", pa.string()), ("difficulty", pa.string()), ("persona", pa.string()),
        ("provenance", PROVENANCE),
    ]),
    "documents": pa.schema([
        ("id", pa.string()), ("kind", pa.string()), ("level", pa.int32()), ("variant", pa.string()),
        ("query_id", pa.string()), ("query", pa.string()), ("positive_id", pa.string()),
        ("lang", pa.string()), ("text", pa.string()), ("provenance", PROVENANCE),
    ]),
    "corpus": pa.schema([("_id", pa.string()), ("title", pa.string()), ("text", pa.string()),
                         ("lang", pa.string())]),
    "queries": pa.schema([("_id", pa.string()), ("text", pa.string()), ("lang", pa.string())]),
    "qrels": pa.schema([("query-id", pa.string()), ("corpus-id", pa.string()), ("score", pa.int32())]),
    "hard_negatives": pa.schema([
        ("query_id", pa.string()), ("query", pa.string()), ("lang", pa.string()),
        ("positive_id", pa.string()), ("positive", pa.string()), ("negative_id", pa.string()),
        ("negative", pa.string()), ("rank", pa.int32()), ("score", pa.float32()),
        ("positive_score", pa.float32()),
    ]),
    "triplets": pa.schema([
        ("query_id", pa.string()), ("query", pa.string()), ("positive", pa.string()),
        ("negative", pa.string()), ("source", pa.string()), ("negative_id", pa.string()),
    ]),
    "rejected": pa.schema([
        ("id", pa.string()), ("stage", pa.string()), ("reason", pa.string()), ("detail", pa.string()),
        ("item_id", pa.string()), ("passage_id", pa.string()), ("lang", pa.string()),
        ("raw", pa.string()), ("method", pa.string()),
    ]),
}


def pair_row(rec: dict[str, Any], passage: dict[str, Any]) -> dict[str, Any]:
    """A kept QueryRecord (as dict) + its source passage -> a `pairs` row."""
    prov = _provenance(rec["provenance"])
    attrs = rec.get("attributes") or {}
    return {"id": rec["id"], "query": rec["query"], "positive": passage["text"],
            "positive_id": passage["id"], "positive_title": passage.get("title", ""),
            "query_lang": rec["query_lang"], "passage_lang": rec["passage_lang"],
            "cross_lingual": rec["cross_lingual"], "roundtrip_rank": rec["roundtrip_rank"],
            "roundtrip_score": rec["roundtrip_score"], "method": rec.get("method", "promptagator"),
            "summary": rec.get("summary"), "query_type": attrs.get("query_type"),
            "length": attrs.get("length"), "difficulty": attrs.get("difficulty"),
            "persona": attrs.get("persona"), "provenance": prov}


def _provenance(prov: dict[str, Any]) -> dict[str, Any]:
    out = dict(prov)
    out["sampling"] = json.dumps(out["sampling"], sort_keys=True)
    return out


def document_row(rec: dict[str, Any]) -> dict[str, Any]:
    """A DocumentRecord (as dict) -> a `documents` row."""
    return {"id": rec["id"], "kind": rec["kind"], "level": rec.get("level"),
            "variant": rec.get("variant"), "query_id": rec["query_id"], "query": rec["query"],
            "positive_id": rec["passage_id"], "lang": rec["lang"], "text": rec["text"],
            "provenance": _provenance(rec["provenance"])}


def negative_row(neg: dict[str, Any], texts: dict[str, str]) -> dict[str, Any]:
    """A MinedNegative (as dict) + passage texts -> a `hard_negatives` row."""
    return {"query_id": neg["query_id"], "query": neg["query"], "lang": neg["lang"],
            "positive_id": neg["positive_id"], "positive": texts.get(neg["positive_id"], ""),
            "negative_id": neg["negative_id"], "negative": texts.get(neg["negative_id"], ""),
            "rank": neg["rank"], "score": neg["score"], "positive_score": neg["positive_score"]}


def triplet_rows(pairs: list[dict[str, Any]], hard: list[dict[str, Any]],
                 documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """(query, positive, negative) rows, one per mined negative (source "mined") and per
    verified LLM negative (source "llm"), for sentence-transformers-style training."""
    by_id = {p["id"]: p for p in pairs}
    rows = [{"query_id": h["query_id"], "query": h["query"], "positive": h["positive"],
             "negative": h["negative"], "source": "mined", "negative_id": h["negative_id"]}
            for h in hard if h["query_id"] in by_id]
    rows += [{"query_id": d["query_id"], "query": d["query"], "positive": by_id[d["query_id"]]["positive"],
              "negative": d["text"], "source": "llm", "negative_id": d["id"]}
             for d in documents if d["kind"] == "negative" and d["query_id"] in by_id]
    return sorted(rows, key=lambda r: (r["query_id"], r["source"], r["negative_id"]))
