"""The cheap query filters, run on every query before the round trip (and on pairs a user
brings): length, template leakage, copy of the passage, language ID, near-duplicates for one
passage and across the run.

Input: QueryRecords in a stable order (the first occurrence of a duplicate is kept) and the
source passages. Output: (kept, rejected, stats) with stats = {"in", "kept", "language":
{lang: {"checked", "agree"}}} (language-ID agreement with the requested language, per language).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from data_schemas.config import FilterConfig
from data_schemas.records import Passage, QueryRecord, Rejected
from synthir.filters.fuzzy import copy_check, near_duplicates
from synthir.generators.common import check_leak, check_length
from synthir.ids import content_id
from synthir.langid import LanguageID


def reject_query(rec: QueryRecord, reason: str, detail: str) -> Rejected:
    """A `filter`-stage Rejected row for a query."""
    return Rejected(id=content_id("filter", rec.id, reason), stage="filter", reason=reason,
                    detail=detail[:500], item_id=rec.id, passage_id=rec.passage_id,
                    lang=rec.query_lang, raw=rec.query[:500], method=rec.method)


def filter_queries(records: list[QueryRecord], passages: dict[str, Passage], cfg: FilterConfig,
                   langid: LanguageID | None) -> tuple[list[QueryRecord], list[Rejected], dict[str, Any]]:
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
    for rows in by_lang.values():
        found = near_duplicates([survivors[i].query for i in rows], cfg.duplicate_threshold)
        for r, hit in zip(rows, found):
            if hit is not None:
                first = survivors[rows[hit[0]]]
                dup[r] = f"duplicate of {first.id} ({first.query!r}), token_sort_ratio {hit[1]:.0f}"
    kept = []
    for i, rec in enumerate(survivors):
        if i in dup:
            rejected.append(reject_query(rec, "near_duplicate", dup[i]))
        else:
            kept.append(rec)
    return kept, rejected, {"in": len(records), "kept": len(kept), "language": dict(lang_stats)}
