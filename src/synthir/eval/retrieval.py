"""Dense retrieval over a BEIR dir with a sentence-transformers model and exact FAISS search,
scored with ir-measures (nDCG@10, Recall@100, MRR@10; no hand-rolled metrics).

Queries are grouped for a breakdown: `mono` (every relevant document in the query's
language), `cross` (otherwise), and `lang:<code>` per query language, when the BEIR files
carry a `lang` field.
"""

from __future__ import annotations

from typing import Any

import faiss
import numpy as np

from synthir.io.beir import BeirData

METRICS = {"ndcg@10": "nDCG@10", "recall@100": "R@100", "mrr@10": "RR@10"}
Run = dict[str, dict[str, float]]


def doc_text(doc: dict[str, Any]) -> str:
    """A corpus document as the retriever encodes it: `title. text`, or the text alone."""
    return f"{doc['title']}. {doc['text']}" if doc.get("title") else doc["text"]


def retrieve(model: Any, data: BeirData, qrels_split: str, k: int = 100, batch_size: int = 64,
             query_prefix: str = "", passage_prefix: str = "") -> Run:
    """Top-`k` documents {query_id: {doc_id: score}} for the queries judged in `qrels_split`
    (cosine: normalised embeddings, inner product)."""
    doc_ids = list(data.corpus)
    texts = [passage_prefix + doc_text(d) for d in data.corpus.values()]
    qids = [q for q in data.qrels[qrels_split] if q in data.queries]
    # the task routes a two-tower model (eval/query_side.py); a one-tower model ignores it
    docs = model.encode(texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True,
                        task="document")
    index = faiss.IndexFlatIP(docs.shape[1])
    index.add(np.ascontiguousarray(docs, dtype=np.float32))
    qv = model.encode([query_prefix + data.queries[q] for q in qids], batch_size=batch_size,
                      normalize_embeddings=True, convert_to_numpy=True, task="query")
    scores, idx = index.search(np.ascontiguousarray(qv, dtype=np.float32), min(k, len(doc_ids)))
    return {q: {doc_ids[j]: float(s) for s, j in zip(scores[i], idx[i]) if j >= 0} for i, q in enumerate(qids)}


def query_groups(data: BeirData, qrels_split: str, langs: dict[str, str]) -> dict[str, list[str]]:
    """{"all": [...], "mono"/"cross": [...], "lang:xx": [...]} query ids (`langs`: query id ->
    language, from queries.jsonl)."""
    groups: dict[str, list[str]] = {"all": []}
    for qid, rel in data.qrels[qrels_split].items():
        if qid not in data.queries:
            continue
        groups["all"].append(qid)
        lang = langs.get(qid)
        doc_langs = {data.corpus.get(d, {}).get("lang") for d, s in rel.items() if s > 0}
        if lang and None not in doc_langs:
            groups.setdefault("mono" if doc_langs == {lang} else "cross", []).append(qid)
            groups.setdefault(f"lang:{lang}", []).append(qid)
    return groups


def per_query(run: Run, data: BeirData, qrels_split: str, qids: list[str]) -> dict[str, dict[str, float]]:
    """{metric: {query id: value}} for every query of `qids` (ir-measures `iter_calc`; a query
    with no retrieved document scores 0)."""
    import ir_measures

    wanted = set(qids)
    qrels = [ir_measures.Qrel(q, d, int(s)) for q, rel in data.qrels[qrels_split].items()
             if q in wanted for d, s in rel.items()]
    results = [ir_measures.ScoredDoc(q, d, s) for q in qids for d, s in run.get(q, {}).items()]
    measures = [ir_measures.parse_measure(m) for m in METRICS.values()]
    found: dict[str, dict[str, float]] = {name: {} for name in METRICS}
    for m in ir_measures.iter_calc(measures, qrels, results):
        name = next(k for k, v in METRICS.items() if str(m.measure) == v)
        found[name][m.query_id] = float(m.value)
    return {name: {q: found[name].get(q, 0.0) for q in qids} for name in METRICS}


def mean_scores(scores: dict[str, dict[str, float]], qids: list[str]) -> dict[str, float]:
    """Mean of per-query scores ({metric: {query id: value}}) over `qids`, rounded to 4 places."""
    return {name: round(sum(v[q] for q in qids) / len(qids), 4) if qids else 0.0 for name, v in scores.items()}


def score(run: Run, data: BeirData, qrels_split: str, qids: list[str]) -> dict[str, float]:
    """Mean nDCG@10, Recall@100, MRR@10 over `qids` (ir-measures; a query with no retrieved
    document counts as 0)."""
    return mean_scores(per_query(run, data, qrels_split, qids), qids)
