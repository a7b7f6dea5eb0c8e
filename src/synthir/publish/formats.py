"""Trainer formats built from the published `pairs`, `hard_negatives` and `documents` rows.

Every format uses the same query id (the pair id) so rows join across configs. Negatives of a
query, in this order: corpus ones (mined, and those the judge verified) by retrieval rank, then
verified LLM negatives by id. A passage the judge graded relevant for a query (and any LLM
negative that near-copies one) is never among its negatives: `build_tables` masks them before
any format is built.

- triplets (sentence-transformers): columns `anchor, positive, negative`, one row per negative;
- ntuples (sentence-transformers): `anchor, positive, negative_1..negative_n`, one row per query
  with at least n negatives (the first n);
- graded (SyCL): one row per (query, document): the source passage (source "corpus", score 3)
  and the verified graded documents (source "generated", score = level); for a query the judge
  graded, every passage it graded (source "judged", score = grade) instead of the "corpus" row;
  graded_qrels the same as BEIR qrels rows; judged_qrels: the judge's grades as qrels;
- tevatron: `query_id, query, positive_passages, negative_passages` ([{docid, title, text}];
  positives: the positive, then the extra positives the judge added);
- flagembedding: `query, pos, neg, pos_scores, neg_scores` (lists; scores are the teacher's
  when the teacher stage ran, else the embedder's cosine: round trip for the positive, mining /
  verification for negatives; pos holds the extra positives too);
- distill (sentence-transformers MarginMSELoss, GPL): `query, positive, negative, label` with
  label = teacher(query, positive) - teacher(query, negative), one row per scored negative.
"""

from __future__ import annotations

from typing import Any

Row = dict[str, Any]


def negatives_by_query(hard: list[Row], documents: list[Row],
                       teacher: dict[tuple[str, str], float] | None = None) -> dict[str, list[Row]]:
    """{query_id: [{"id", "title", "text", "score", "teacher", "source"}]}: corpus negatives
    (mined, or judged: verified by the judge) by rank, then LLM ones; `teacher` is the
    teacher's score of (query id, doc id), None when not scored."""
    teacher = teacher or {}
    out: dict[str, list[Row]] = {}
    for h in sorted(hard, key=lambda h: (h["query_id"], h["rank"])):
        out.setdefault(h["query_id"], []).append(
            {"id": h["negative_id"], "title": h.get("negative_title") or "", "text": h["negative"],
             "score": h["score"], "teacher": h.get("teacher_score"), "source": h.get("source") or "mined"})
    for d in sorted((d for d in documents if d["kind"] == "negative"), key=lambda d: (d["query_id"], d["id"])):
        out.setdefault(d["query_id"], []).append(
            {"id": d["id"], "title": "", "text": d["text"], "score": d.get("score"),
             "teacher": teacher.get((d["query_id"], d["id"])), "source": "llm"})
    return out


def triplet_rows(pairs: list[Row], negs: dict[str, list[Row]]) -> list[Row]:
    """(anchor, positive, negative) rows, one per negative of each pair."""
    return [{"anchor": p["query"], "positive": p["positive"], "negative": n["text"]}
            for p in pairs for n in negs.get(p["id"], [])]


def ntuple_rows(pairs: list[Row], negs: dict[str, list[Row]], n: int) -> list[Row]:
    """(anchor, positive, negative_1..negative_n) rows for pairs with at least n negatives."""
    rows = []
    for p in pairs:
        mine = negs.get(p["id"], [])
        if len(mine) >= n:
            row = {"anchor": p["query"], "positive": p["positive"]}
            row.update({f"negative_{i + 1}": m["text"] for i, m in enumerate(mine[:n])})
            rows.append(row)
    return rows


def graded_rows(pairs: list[Row], documents: list[Row], judged: dict[str, list[Row]] | None = None) -> list[Row]:
    """Graded relevance rows for queries with verified graded documents or judged passages
    (`judged`: {query id: [{"doc_id", "document", "score"}]}; see module doc)."""
    judged = judged or {}
    by_query: dict[str, list[Row]] = {}
    for d in documents:
        if d["kind"] == "graded" and d["level"] is not None:
            by_query.setdefault(d["query_id"], []).append(d)
    rows = []
    for p in pairs:
        docs = by_query.get(p["id"], [])
        grades = judged.get(p["id"], [])
        if not docs and not grades:
            continue
        base = {"query_id": p["id"], "query": p["query"], "lang": p["query_lang"]}
        if grades:
            rows += [{**base, "doc_id": g["doc_id"], "document": g["document"], "score": g["score"],
                      "source": "judged"} for g in sorted(grades, key=lambda g: (-g["score"], g["doc_id"]))]
        else:
            rows.append({**base, "doc_id": p["positive_id"], "document": p["positive"], "score": 3,
                         "source": "corpus"})
        for d in sorted(docs, key=lambda d: (-d["level"], d["id"])):
            rows.append({**base, "doc_id": d["id"], "document": d["text"], "score": d["level"],
                         "source": "generated"})
    return rows


def graded_qrels(graded: list[Row]) -> list[Row]:
    """BEIR-style qrels of the graded rows."""
    return [{"query-id": r["query_id"], "corpus-id": r["doc_id"], "score": r["score"]} for r in graded]


def judged_qrels(pairs: list[Row], judged: dict[str, list[Row]]) -> list[Row]:
    """The judge's grades (0-3) of every passage it graded for a published pair, as qrels."""
    return [{"query-id": p["id"], "corpus-id": g["doc_id"], "score": g["score"]}
            for p in pairs for g in sorted(judged.get(p["id"], []), key=lambda g: (-g["score"], g["doc_id"]))]


def qrels_rows(pairs: list[Row]) -> list[Row]:
    """BEIR qrels (score 1): each pair's positive and the extra positives the judge added."""
    return [{"query-id": p["id"], "corpus-id": pid, "score": 1}
            for p in pairs for pid in [p["positive_id"], *p.get("extra_positive_ids", [])]]


def _passage(doc_id: str, title: str, text: str) -> Row:
    return {"docid": doc_id, "title": title or "", "text": text}


def tevatron_rows(pairs: list[Row], negs: dict[str, list[Row]]) -> list[Row]:
    """One Tevatron training row per pair (negative_passages may be empty)."""
    return [{"query_id": p["id"], "query": p["query"],
             "positive_passages": [_passage(p["positive_id"], p["positive_title"], p["positive"])]
             + [_passage(e["id"], e["title"], e["text"]) for e in p.get("extra_positives", [])],
             "negative_passages": [_passage(n["id"], n["title"], n["text"]) for n in negs.get(p["id"], [])]}
            for p in pairs]


def flagembedding_rows(pairs: list[Row], negs: dict[str, list[Row]]) -> list[Row]:
    """One FlagEmbedding row per pair: query, pos, neg, pos_scores, neg_scores."""
    rows = []
    for p in pairs:
        mine = negs.get(p["id"], [])
        extra = p.get("extra_positives", [])
        taught = (p.get("teacher_score") is not None and all(n["teacher"] is not None for n in mine)
                  and all(e.get("teacher") is not None for e in extra))
        rows.append({"query": p["query"], "pos": [p["positive"]] + [e["text"] for e in extra],
                     "neg": [n["text"] for n in mine],
                     "pos_scores": [p["teacher_score"] if taught else p["roundtrip_score"]]
                     + [e.get("teacher") if taught else e.get("score") for e in extra],
                     "neg_scores": [n["teacher"] if taught else n["score"] for n in mine]})
    return rows


def distill_rows(pairs: list[Row], negs: dict[str, list[Row]]) -> list[Row]:
    """(query, positive, negative, label = teacher margin) rows for every teacher-scored
    negative of a teacher-scored pair."""
    return [{"query": p["query"], "positive": p["positive"], "negative": n["text"],
             "label": p["teacher_score"] - n["teacher"]}
            for p in pairs if p.get("teacher_score") is not None
            for n in negs.get(p["id"], []) if n["teacher"] is not None]
