"""Lexical filters with rapidfuzz: a query copied from its passage, and near-duplicate queries
(for one passage, and across the whole run).

Near-duplicates use `rapidfuzz.process.cdist` (C++, all cores) on blocks of rows, never a
Python double loop: texts are compared in chunks of `chunk` rows against every earlier text
of the same block, so memory stays O(chunk x n) and the first occurrence is kept. Two texts
whose numbers differ ("16-page booklet" / "12-page booklet": token_sort_ratio 97) ask for
different things and are never near-duplicates (docs/results.md §8aq).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
from rapidfuzz import fuzz, process, utils

from synthir.generators.common import Check, words

_NUMBER = re.compile(r"\d+")


def copy_check(query: str, passage: str, partial_ratio: float, min_words: int,
               max_token_overlap: float | None) -> Check:
    """copied_from_passage when a query of >= `min_words` words is a near-verbatim span of
    the passage (partial_ratio >= threshold), or when the share of its words found in the
    passage reaches `max_token_overlap` (None: off)."""
    q_words = words(query)
    if len(q_words) >= min_words:
        score = fuzz.partial_ratio(utils.default_process(query), utils.default_process(passage))
        if score >= partial_ratio:
            return "copied_from_passage", f"partial_ratio {score:.0f} >= {partial_ratio:.0f}"
    if max_token_overlap is not None and q_words:
        p_words = set(words(passage))
        overlap = sum(w in p_words for w in q_words) / len(q_words)
        if overlap >= max_token_overlap:
            return "copied_from_passage", f"token overlap {overlap:.2f} >= {max_token_overlap:.2f}"
    return None


def near_duplicates(texts: Sequence[str], threshold: float, chunk: int = 2048,
                    workers: int = -1) -> list[tuple[int, float] | None]:
    """For each text, (index of the first earlier text it near-duplicates, score) or None.

    Score: token_sort_ratio on rapidfuzz's default processing (lower-case, punctuation
    stripped), so word order and case do not hide a duplicate. An earlier text with other
    numbers (the digit runs, in order) is not a duplicate, however high its score.
    """
    n = len(texts)
    out: list[tuple[int, float] | None] = [None] * n
    if n < 2:
        return out
    procs = [utils.default_process(t) for t in texts]
    numbers = [_NUMBER.findall(t) for t in texts]
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        scores = process.cdist(procs[start:stop], procs[:stop], scorer=fuzz.token_sort_ratio,
                               score_cutoff=threshold, dtype=np.uint8, workers=workers)
        for r in range(stop - start):
            i = start + r
            row = scores[r, :i]
            hits = [int(j) for j in np.flatnonzero(row >= threshold)] if i else []
            j = next((j for j in hits if numbers[j] == numbers[i]), None)
            if j is not None:
                out[i] = (j, float(row[j]))
    return out
