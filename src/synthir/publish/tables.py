"""Arrow schemas and row builders for each published config (explicit schemas: an empty
config still has typed columns). Provenance model names go through `public_text` (no path of
the user's machine is published)."""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa

from data_schemas.records import DocumentRecord, MinedNegative, Passage, Provenance, QueryRecord
from synthir.publish.public import public_text

PROVENANCE = pa.struct([
    ("generator", pa.string()), ("template", pa.string()), ("template_sha256", pa.string()),
    ("examples_sha256", pa.string()), ("model", pa.string()), ("backend", pa.string()),
    ("sampling", pa.string()), ("seed", pa.int64()), ("examples", pa.list_(pa.string())),
])

_PASSAGE = pa.struct([("docid", pa.string()), ("title", pa.string()), ("text", pa.string())])

SCHEMAS: dict[str, pa.Schema] = {
    "pairs": pa.schema([
        ("id", pa.string()), ("query", pa.string()), ("positive", pa.string()),
        ("positive_id", pa.string()), ("positive_title", pa.string()),
        ("query_lang", pa.string()), ("passage_lang", pa.string()), ("cross_lingual", pa.bool_()),
        ("roundtrip_rank", pa.int32()), ("roundtrip_score", pa.float32()),
        ("roundtrip_match", pa.string()), ("roundtrip_hit", pa.string()),
        ("positive_doc_id", pa.string()), ("cluster_id", pa.string()),
        ("method", pa.string()), ("summary", pa.string()), ("query_type", pa.string()),
        ("length", pa.string()), ("difficulty", pa.string()), ("persona", pa.string()),
        ("provenance", PROVENANCE), ("teacher_score", pa.float32()),
        ("source_passage_id", pa.string()), ("extra_positive_ids", pa.list_(pa.string())),
        ("judge_grade", pa.int32()), ("relabel", pa.string()),
    ]),
    "documents": pa.schema([
        ("id", pa.string()), ("kind", pa.string()), ("level", pa.int32()), ("variant", pa.string()),
        ("query_id", pa.string()), ("query", pa.string()), ("positive_id", pa.string()),
        ("lang", pa.string()), ("text", pa.string()), ("score", pa.float32()),
        ("provenance", PROVENANCE),
    ]),
    "corpus": pa.schema([("_id", pa.string()), ("title", pa.string()), ("text", pa.string()),
                         ("lang", pa.string()), ("doc_id", pa.string()), ("cluster_id", pa.string())]),
    "queries": pa.schema([("_id", pa.string()), ("text", pa.string()), ("lang", pa.string())]),
    "qrels": pa.schema([("query-id", pa.string()), ("corpus-id", pa.string()), ("score", pa.int32())]),
    "hard_negatives": pa.schema([
        ("query_id", pa.string()), ("query", pa.string()), ("lang", pa.string()),
        ("positive_id", pa.string()), ("positive", pa.string()), ("negative_id", pa.string()),
        ("negative_title", pa.string()), ("negative", pa.string()), ("rank", pa.int32()), ("score", pa.float32()),
        ("positive_score", pa.float32()), ("teacher_score", pa.float32()), ("source", pa.string()),
    ]),
    "distill": pa.schema([("query", pa.string()), ("positive", pa.string()), ("negative", pa.string()),
                          ("label", pa.float32())]),
    "triplets": pa.schema([("anchor", pa.string()), ("positive", pa.string()), ("negative", pa.string())]),
    "graded": pa.schema([
        ("query_id", pa.string()), ("query", pa.string()), ("lang", pa.string()),
        ("doc_id", pa.string()), ("document", pa.string()), ("score", pa.int32()), ("source", pa.string()),
    ]),
    "graded_qrels": pa.schema([("query-id", pa.string()), ("corpus-id", pa.string()), ("score", pa.int32())]),
    "judged_qrels": pa.schema([("query-id", pa.string()), ("corpus-id", pa.string()), ("score", pa.int32())]),
    "tevatron": pa.schema([
        ("query_id", pa.string()), ("query", pa.string()),
        ("positive_passages", pa.list_(_PASSAGE)), ("negative_passages", pa.list_(_PASSAGE)),
    ]),
    "flagembedding": pa.schema([
        ("query", pa.string()), ("pos", pa.list_(pa.string())), ("neg", pa.list_(pa.string())),
        ("pos_scores", pa.list_(pa.float32())), ("neg_scores", pa.list_(pa.float32())),
    ]),
    "rejected": pa.schema([
        ("id", pa.string()), ("stage", pa.string()), ("reason", pa.string()), ("detail", pa.string()),
        ("item_id", pa.string()), ("passage_id", pa.string()), ("lang", pa.string()),
        ("raw", pa.string()), ("method", pa.string()),
    ]),
}


def pair_row(rec: QueryRecord, passage: Passage, teacher_score: float | None = None,
             cluster_id: str | None = None, extra: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A kept query + its positive passage (+ the teacher's score of the pair, the passage's
    duplicate cluster: its own id when it has no duplicate, + the extra positives the judge
    added as {"id", "title", "text", "score", "teacher"}) -> a `pairs` row
    (`extra_positives` is not a column: tevatron and flagembedding read it)."""
    attrs = rec.attributes
    extra = extra or []
    return {"id": rec.id, "query": rec.query, "positive": passage.text,
            "positive_id": passage.id, "positive_title": passage.title,
            "query_lang": rec.query_lang, "passage_lang": rec.passage_lang,
            "cross_lingual": rec.cross_lingual, "roundtrip_rank": rec.roundtrip_rank,
            "roundtrip_score": rec.roundtrip_score, "roundtrip_match": rec.roundtrip_match,
            "roundtrip_hit": rec.roundtrip_hit, "positive_doc_id": passage.doc_id or passage.id,
            "cluster_id": cluster_id or passage.id, "method": rec.method,
            "summary": rec.summary, "query_type": attrs.get("query_type"),
            "length": attrs.get("length"), "difficulty": attrs.get("difficulty"),
            "persona": attrs.get("persona"), "provenance": _provenance(rec.provenance),
            "teacher_score": teacher_score, "source_passage_id": rec.source_id,
            "extra_positive_ids": [e["id"] for e in extra], "judge_grade": rec.judge_grade,
            "relabel": rec.relabel, "extra_positives": extra}


def _provenance(prov: Provenance) -> dict[str, Any]:
    out = prov.model_dump(mode="json")
    out["model"] = public_text(out["model"])
    out["sampling"] = json.dumps(out["sampling"], sort_keys=True)
    return out


def document_row(rec: DocumentRecord) -> dict[str, Any]:
    """A verified generated document -> a `documents` row."""
    return {"id": rec.id, "kind": rec.kind, "level": rec.level, "variant": rec.variant,
            "query_id": rec.query_id, "query": rec.query, "positive_id": rec.passage_id,
            "lang": rec.lang, "text": rec.text, "score": rec.score,
            "provenance": _provenance(rec.provenance)}


def ntuple_schema(n: int) -> pa.Schema:
    """sentence-transformers n-tuple columns: anchor, positive, negative_1..negative_n."""
    return pa.schema([("anchor", pa.string()), ("positive", pa.string())]
                     + [(f"negative_{i + 1}", pa.string()) for i in range(n)])


def negative_row(neg: MinedNegative, passages: dict[str, dict[str, str]],
                 teacher_score: float | None = None) -> dict[str, Any]:
    """A mined negative + passages {id: {"title", "text"}} (+ its teacher score) -> a
    `hard_negatives` row."""
    pos = passages.get(neg.positive_id, {})
    other = passages.get(neg.negative_id, {})
    return {"query_id": neg.query_id, "query": neg.query, "lang": neg.lang,
            "positive_id": neg.positive_id, "positive": pos.get("text", ""),
            "negative_id": neg.negative_id, "negative_title": other.get("title", ""),
            "negative": other.get("text", ""),
            "rank": neg.rank, "score": neg.score, "positive_score": neg.positive_score,
            "teacher_score": teacher_score, "source": neg.source}
