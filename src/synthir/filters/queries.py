"""The cheap query filters, run on every query before the round trip (and on pairs a user
brings): length, template leakage, copy of the passage, language ID, near-duplicates for one
passage and across the run.

Input: QueryRecords in a stable order (of one passage's duplicates the first is kept), the
source passages and, optionally, `rank(records) -> [(source rank | None, score)]` (the round
trip's search, synthir.filters.roundtrip.source_ranks) with the round trip's `top_k`.
Near-identical queries written for DIFFERENT passages ask one thing of several passages: with
`rank`, the first copy whose passage is in the top `top_k` is kept (the copy the round trip will
pass, so a pair the first-written rule kept is never replaced), and when none is, the
best-ranked; a query whose first copy was written for a passage it does not retrieve is no
longer lost. Without `rank`, the first copy.
Output: (kept, rejected, stats) with stats = {"in", "kept", "language": {lang: {"checked",
"agree"}}, "duplicates_resolved": n} (language-ID agreement with the requested language, per
language; groups of cross-passage duplicates where `rank` kept another copy than the first).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from rapidfuzz import fuzz, utils

from data_schemas.config import FilterConfig
from data_schemas.records import Passage, QueryRecord, Rejected
from synthir.filters.fuzzy import copy_check, near_duplicates
from synthir.filters.roundtrip import in_top_k
from synthir.generators.common import check_leak, check_length
from synthir.ids import content_id
from synthir.langid import LanguageID


def reject_query(rec: QueryRecord, reason: str, detail: str) -> Rejected:
    """A `filter`-stage Rejected row for a query."""
    return Rejected(id=content_id("filter", rec.id, reason), stage="filter", reason=reason,
                    detail=detail[:500], item_id=rec.id, passage_id=rec.passage_id,
                    lang=rec.query_lang, raw=rec.query[:500], method=rec.method)


def filter_queries(records: list[QueryRecord], passages: dict[str, Passage], cfg: FilterConfig,
                   langid: LanguageID | None, rank: Rank | None = None, top_k: int | None = None
                   ) -> tuple[list[QueryRecord], list[Rejected], dict[str, Any]]:
    """Apply the filters in order (cheapest first); see module doc."""
    rejected: list[Rejected] = []
    survivors: list[QueryRecord] = []
    lang_stats: dict[str, dict[str, int]] = defaultdict(lambda: {"checked": 0, "agree": 0})
    for rec in records:
        passage = passages.get(rec.passage_id)
        if passage is None:
            rejected.append(reject_query(rec, "unknown_passage", f"no passage with id {rec.passage_id!r}"))
            continue
        problem = (check_length(rec.query, cfg.min_chars, cfg.max_chars) or check_leak(rec.query)
                   or copy_check(rec.query, passage.text, cfg.copy_partial_ratio,
                                 cfg.copy_min_words, cfg.max_token_overlap))
        if not problem and langid is not None and rec.query_lang in langid.codes:
            res = langid.check(rec.query, rec.query_lang)
            lang_stats[rec.query_lang]["checked"] += 1
            lang_stats[rec.query_lang]["agree"] += int(res.detected == rec.query_lang)
            if not res.ok:
                problem = ("wrong_language", res.detail(rec.query_lang))
        if problem:
            rejected.append(reject_query(rec, *problem))
        else:
            survivors.append(rec)
    # near-duplicates for the same passage (a looser threshold), then across the run
    dup: dict[int, str] = {}
    by_passage: dict[str, list[int]] = defaultdict(list)
    for i, rec in enumerate(survivors):
        by_passage[rec.passage_id].append(i)
    for rows in by_passage.values():
        if len(rows) > 1:
            found = near_duplicates([survivors[i].query for i in rows], cfg.passage_duplicate_threshold)
            for r, hit in zip(rows, found):
                if hit is not None:
                    first = survivors[rows[hit[0]]]
                    dup[r] = f"same passage as {first.id} ({first.query!r}), token_sort_ratio {hit[1]:.0f}"
    by_lang: dict[str, list[int]] = defaultdict(list)
    for i, rec in enumerate(survivors):
        if i not in dup:
            by_lang[rec.query_lang].append(i)
    groups = [g for rows in by_lang.values()
              for g in _groups(rows, near_duplicates([survivors[i].query for i in rows], cfg.duplicate_threshold))]
    resolved = 0
    ranked = _rank_members(groups, survivors, rank)
    for group in groups:
        scored = all(i in ranked for i in group)
        keep = _choose(group, ranked, top_k) if scored else group[0]
        resolved += keep != group[0]
        first = survivors[keep]
        for i in group:
            if i != keep:
                score = fuzz.token_sort_ratio(utils.default_process(survivors[i].query),
                                              utils.default_process(first.query))
                dup[i] = f"duplicate of {first.id} ({first.query!r}), token_sort_ratio {score:.0f}" + (
                    f"; kept for passage {first.passage_id} (source rank {_show(ranked[keep])}), "
                    f"this one's passage ranks {_show(ranked[i])}" if scored else "")
    kept = []
    for i, rec in enumerate(survivors):
        if i in dup:
            rejected.append(reject_query(rec, "near_duplicate", dup[i]))
        else:
            kept.append(rec)
    return kept, rejected, {"in": len(records), "kept": len(kept), "language": dict(lang_stats),
                            "duplicates_resolved": resolved}


Rank = Callable[[list[QueryRecord]], list[tuple[int | None, float]]]


def _groups(rows: list[int], found: list[tuple[int, float] | None]) -> list[list[int]]:
    """Connected groups (in input order, size > 1) of `rows` linked by near_duplicates hits."""
    root = list(range(len(rows)))
    for k, hit in enumerate(found):
        if hit is not None:
            root[k] = root[hit[0]]  # hits point to earlier rows, whose root is already final
    out: dict[int, list[int]] = defaultdict(list)
    for k, r in enumerate(root):
        out[r].append(rows[k])
    return [g for g in out.values() if len(g) > 1]


def _rank_members(groups: list[list[int]], survivors: list[QueryRecord], rank: Rank | None
                  ) -> dict[int, tuple[int | None, float]]:
    """(source rank, score) of every member of a group whose members are written for more
    than one passage (one call to `rank`); empty without `rank` or without such groups."""
    members = [i for g in groups if len({survivors[i].passage_id for i in g}) > 1 for i in g]
    if rank is None or not members:
        return {}
    return dict(zip(members, rank([survivors[i] for i in members]), strict=True))


def _choose(group: list[int], ranked: dict[int, tuple[int | None, float]], top_k: int | None) -> int:
    """The copy to keep: the first whose source is in the top `top_k` (it will pass the round
    trip, so a pair the first-written rule kept is never replaced); when none is (or top_k is
    None), the best-ranked, ties to the first."""
    passing = [i for i in group if in_top_k(ranked[i][0], top_k)] if top_k is not None else []
    if passing:
        return passing[0]
    return min(enumerate(group), key=lambda t: (_order(ranked[t[1]]), t[0]))[1]


def _order(ranked: tuple[int | None, float]) -> tuple[int, float]:
    """Sort key: best source rank first (not found last), then the higher score."""
    r, score = ranked
    return (r if r is not None else 10**9, -score)


def _show(ranked: tuple[int | None, float]) -> str:
    return str(ranked[0]) if ranked[0] is not None else "not found"
