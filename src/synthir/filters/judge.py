"""Judge and relabel (Gecko), the pure part: which passages a kept query's judge sees, which the
pre-judge lets through, and what the grades decide.

For each query kept by the round trip the judge grades the source passage and the top
`judge.candidates` other retrieved passages on 0-3. `relabel(record, judgments, cfg)` then
decides, with R = `judge.relevant_min`:

- a candidate graded above the source and at least R is *better*: with `relabel: promote` the
  best one (highest grade, then best retrieval rank) becomes the positive (`passage_id`) and the
  source is kept as provenance (`source_id`); with `add` every better one becomes an extra
  positive; with `off` nothing changes;
- a source graded below R is *demoted*: the query is dropped as `judge_rejected_source`, unless
  promote found a better candidate (the query then keeps that one as its positive);
- otherwise the source is *confirmed*; a source with no verdict (the call failed or the answer
  did not parse) leaves the query as the round trip kept it (`unjudged`).

Masking: every passage graded at least R, every candidate without a verdict, and the source
are never a negative for that query (`masked`); candidates graded below R are verified hard
negatives (`irrelevant`). Agreement with the round trip: over a query's judged passages, pairs
with different grades ordered the same way by grade and by retrieval rank (`pairwise`), and
whether the judge's best passage is the best-ranked one (`top1`).

Inputs: kept QueryRecords (with roundtrip_rank / roundtrip_score), the retrieved (ids, scores)
rows, Judgments, JudgeConfig. Outputs: QueryRecord | Rejected(stage="judge"), Decision.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from data_schemas.config import JudgeConfig
from data_schemas.records import Judgment, QueryRecord, Rejected
from synthir.filters.mining import Judged
from synthir.ids import content_id


@dataclass(frozen=True)
class Slot:
    """One passage to judge for a query: its retrieval rank (None: not retrieved within the
    depth) and score."""

    doc_id: str
    role: str  # source | candidate
    rank: int | None
    score: float | None


def slots(rec: QueryRecord, row_ids: Sequence[str], row_scores: Sequence[float], n: int) -> list[Slot]:
    """The source, then the `n` best-ranked retrieved passages other than the source."""
    rank = {pid: (i + 1, float(s)) for i, (pid, s) in enumerate(zip(row_ids, row_scores))}
    src_rank, src_score = rank.get(rec.passage_id, (rec.roundtrip_rank, rec.roundtrip_score))
    out = [Slot(rec.passage_id, "source", src_rank, src_score)]
    for pid in row_ids:
        if len(out) > n:
            break
        if pid != rec.passage_id:
            out.append(Slot(pid, "candidate", *rank[pid]))
    return out


def ambiguous(source_score: float | None, score: float | None, margin: float) -> bool:
    """The pre-judge's call: a candidate goes to the LLM unless it scores below the source by
    more than `margin` (unknown scores always go)."""
    return source_score is None or score is None or score >= source_score - margin


@dataclass
class Decision:
    """What the judge decided for one query. outcome: confirmed | promoted | added | dropped |
    unjudged; demoted: the source was graded below relevant_min; better: candidates graded
    above the source (and relevant)."""

    outcome: str
    demoted: bool = False
    better: list[str] = field(default_factory=list)
    masked: set[str] = field(default_factory=set)
    irrelevant: list[Judgment] = field(default_factory=list)


def _relevant(j: Judgment, cfg: JudgeConfig) -> bool:
    return j.grade is not None and j.grade >= cfg.relevant_min


def decide(judgments: list[Judgment], cfg: JudgeConfig) -> Decision:
    """The outcome for one query's judgments (see module doc)."""
    source = next(j for j in judgments if j.role == "source")
    cands = [j for j in judgments if j.role == "candidate"]
    masked = {source.doc_id} | {j.doc_id for j in cands if _relevant(j, cfg) or (j.grade is None and not j.skipped)}
    irrelevant = sorted((j for j in cands if j.grade is not None and j.grade < cfg.relevant_min),
                        key=lambda j: (j.rank or 10**9, j.doc_id))
    if source.grade is None:
        return Decision("unjudged", masked=masked, irrelevant=irrelevant)
    better = [j for j in cands if _relevant(j, cfg) and j.grade > source.grade]  # type: ignore[operator]
    better.sort(key=lambda j: (-(j.grade or 0), j.rank or 10**9, j.doc_id))
    ids = [j.doc_id for j in better]
    demoted = not _relevant(source, cfg)
    if cfg.relabel == "promote" and better:
        return Decision("promoted", demoted, ids, masked, irrelevant)
    if demoted:
        return Decision("dropped", True, ids, masked, irrelevant)
    if cfg.relabel == "add" and better:
        return Decision("added", False, ids, masked, irrelevant)
    return Decision("confirmed", False, ids, masked, irrelevant)


def relabel(rec: QueryRecord, judgments: list[Judgment], cfg: JudgeConfig,
            lang_of: dict[str, str]) -> tuple[QueryRecord | Rejected, Decision]:
    """The query after the judge (or its Rejected row) and the Decision. `lang_of`: passage
    languages (a promoted positive may be in another language than the source)."""
    d = decide(judgments, cfg)
    by_id = {j.doc_id: j for j in judgments}
    source = by_id[rec.passage_id]
    if d.outcome == "dropped":
        return Rejected(
            id=content_id("judge", rec.id), stage="judge", reason="judge_rejected_source",
            detail=f"source graded {source.grade} (< relevant_min {cfg.relevant_min}) at round-trip rank "
                   f"{rec.roundtrip_rank}; no candidate graded relevant above it"
                   + ("" if cfg.relabel == "promote" else f" (relabel: {cfg.relabel})"),
            item_id=rec.id, passage_id=rec.passage_id, lang=rec.query_lang, raw=rec.query, method=rec.method), d
    if d.outcome == "promoted":
        best = by_id[d.better[0]]
        lang = lang_of.get(best.doc_id, rec.passage_lang)
        return rec.model_copy(update={
            "passage_id": best.doc_id, "source_id": rec.passage_id, "passage_lang": lang,
            "cross_lingual": lang != rec.query_lang, "roundtrip_rank": best.rank,
            "roundtrip_score": best.retrieval_score, "judge_grade": best.grade, "relabel": "promoted"}), d
    update: dict = {"judge_grade": source.grade, "relabel": d.outcome}
    if d.outcome == "added":
        update["extra_positives"] = list(d.better)
    return rec.model_copy(update=update), d


def agreement(judgments: list[Judgment]) -> tuple[int, int, bool | None]:
    """(concordant, discordant, top1) between the judge's grades and the retrieval ranks of one
    query's judged passages (see module doc); top1 None with fewer than two graded passages."""
    graded = [j for j in judgments if j.grade is not None and j.rank is not None]
    conc = disc = 0
    for i, a in enumerate(graded):
        for b in graded[i + 1:]:
            if a.grade == b.grade:
                continue
            better_graded, other = (a, b) if a.grade > b.grade else (b, a)  # type: ignore[operator]
            if better_graded.rank < other.rank:  # type: ignore[operator]
                conc += 1
            else:
                disc += 1
    if len(graded) < 2:
        return conc, disc, None
    best = max(graded, key=lambda j: (j.grade, -(j.rank or 0)))
    return conc, disc, best.rank == min(j.rank for j in graded)  # type: ignore[type-var]


def judged_sets(cfg: JudgeConfig, judgments: list[Judgment]) -> dict[str, Judged]:
    """{query id: Judged (masked passages, verified hard negatives)} from the judgments of
    many queries (what mining and publishing need from the judge)."""
    by_query: dict[str, list[Judgment]] = defaultdict(list)
    for j in judgments:
        by_query[j.query_id].append(j)
    out = {}
    for qid, js in by_query.items():
        d = decide(js, cfg)
        out[qid] = Judged(frozenset(d.masked), tuple((j.doc_id, j.rank or 1, j.retrieval_score or 0.0)
                                                     for j in d.irrelevant))
    return out
