"""Contamination guard: drop generated queries and documents that near-duplicate the queries
or documents of an evaluation set, so a model trained on the dataset is not tested on what it
saw. Eval sets are BEIR dirs (`contamination.beir_dirs`).

Similarity: rapidfuzz `fuzz.ratio` on its default processing (lower-case, punctuation
stripped), computed with `process.cdist` over chunks of the eval side (memory stays
len(texts) x chunk bytes), never a Python double loop. Queries are compared with the eval
queries (`query_threshold`), documents with the eval corpus (`document_threshold`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from rapidfuzz import fuzz, process, utils

from data_schemas.run_options import ContaminationConfig
from synthir.io.beir import read_beir


@dataclass(frozen=True)
class EvalSet:
    """The eval texts: (source label "dir:id", processed text) for queries and documents, and
    a sha256 of them (it keys the stages' done-markers)."""

    queries: tuple[tuple[str, str], ...]
    documents: tuple[tuple[str, str], ...]
    sha256: str


@lru_cache(maxsize=4)
def load_eval_set(dirs: tuple[str, ...]) -> EvalSet:
    """Read every BEIR dir in `dirs` (raises InputError on a missing / bad one)."""
    queries: list[tuple[str, str]] = []
    documents: list[tuple[str, str]] = []
    for d in dirs:
        data = read_beir(Path(d))
        name = Path(d).name
        queries += [(f"{name}:{qid}", utils.default_process(t)) for qid, t in data.queries.items()]
        documents += [(f"{name}:{did}", utils.default_process(f"{doc['title']} {doc['text']}".strip()))
                      for did, doc in data.corpus.items()]
    h = hashlib.sha256()
    for label, text in queries + documents:
        h.update(f"{label}\t{text}\n".encode())
    return EvalSet(tuple(queries), tuple(documents), h.hexdigest())


def eval_set(cfg: ContaminationConfig) -> EvalSet | None:
    """The configured eval set, or None when the guard is off (no beir_dirs)."""
    if not cfg.beir_dirs:
        return None
    return load_eval_set(tuple(str(Path(d).resolve()) for d in cfg.beir_dirs))


def find_near_duplicates(texts: list[str], targets: tuple[tuple[str, str], ...], threshold: float,
                         chunk: int = 4096) -> dict[int, tuple[str, float]]:
    """{index in texts: (label of the most similar target, score)} for every text whose best
    ratio to a (processed) target is >= threshold."""
    best: dict[int, tuple[str, float]] = {}
    if not texts or not targets:
        return best
    procs = [utils.default_process(t) for t in texts]
    for start in range(0, len(targets), chunk):
        part = targets[start:start + chunk]
        scores = process.cdist(procs, [t for _, t in part], scorer=fuzz.ratio, processor=None,
                               score_cutoff=threshold, dtype=np.uint8, workers=-1)
        top = scores.argmax(axis=1)
        for i in np.flatnonzero(scores[np.arange(len(procs)), top] >= threshold):
            score = float(scores[i, top[i]])
            if score > best.get(int(i), ("", -1.0))[1]:
                best[int(i)] = (part[int(top[i])][0], score)
    return best


def check(texts: list[str], cfg: ContaminationConfig, kind: str) -> tuple[dict[int, str], dict[str, Any]]:
    """Check generated `texts` of `kind` "queries" | "documents" against the eval set.

    Returns ({index: reject detail}, stats {"checked", "dropped", "eval_<kind>", "eval_sha256"}).
    """
    ev = eval_set(cfg)
    if ev is None:
        return {}, {}
    targets = ev.queries if kind == "queries" else ev.documents
    threshold = cfg.query_threshold if kind == "queries" else cfg.document_threshold
    hits = find_near_duplicates(texts, targets, threshold)
    what = "query" if kind == "queries" else "document"
    details = {i: f"ratio {score:.0f} >= {threshold:g} to eval {what} {label}"
               for i, (label, score) in hits.items()}
    return details, {"checked": len(texts), "dropped": len(hits), f"eval_{kind}": len(targets),
                     "eval_sha256": ev.sha256}
