"""Stage `judge` (per shard, after the round trip, for kept queries only): Gecko's judge and
relabel. Each kept query is searched again over the corpus index; the judge LLM grades the
source passage and the top `judge.candidates` other retrieved passages on 0-3 (a chat prompt per
pair answered as `{"grade": N}`, or P(yes) from log-probs: synthir.generators.judge), then
synthir.filters.judge decides: confirm the source, promote a better candidate to positive (or
add it as an extra positive), or drop the query (`judge_rejected_source`). With
`judge.prejudge.enabled`, a cheaper scorer (the round trip's retrieval scores, or the teacher's
scorer) sends only the ambiguous candidates to the LLM; the calls it saved are counted.
With `judge.enabled: false` the kept queries pass through unchanged.

Reads: kept, passages, corpus. Writes: judged (QueryRecord: the kept queries after the judge,
what the later stages read), judgments (Judgment), judge_rejected (Rejected). Stats: in, kept,
outcomes, grades, agreement with the round-trip rank, calls saved by the pre-judge, tokens, and
for `kind: yes_no` the P(yes) histograms of sources and candidates (`p_yes`; the run warns when
the relevance cut sits above the median source: synthir.filters.judge_spread).
Reference: Lee et al., 2024, "Gecko: Versatile Text Embeddings Distilled from Large Language
Models"; the answerability judge of NVIDIA's retrieval data pipeline.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from typing import Any

from data_schemas.config import LLMConfig, RunConfig
from data_schemas.records import Judgment, Passage, QueryRecord, Rejected
from synthir.embed.registry import get_embedder
from synthir.filters.judge import Slot, agreement, ambiguous, relabel, slots
from synthir.filters.judge_spread import histogram, merge
from synthir.generators.judge import ChatJudge, grade_of_p_yes, parse_verdict, template_name
from synthir.ids import content_id
from synthir.llm.registry import model_identity
from synthir.prompting import PromptLibrary
from synthir.rundir import read_records, write_records
from synthir.stages.base import Context, Stage
from synthir.stages.common import bar, count_call, make_llm, send
from synthir.stages.index import load_index

OUTCOMES = ("confirmed", "promoted", "added", "dropped", "unjudged")


def judge_llm(cfg: RunConfig) -> LLMConfig:
    """The judge model's config: `judge.llm`, else the run's `llm`."""
    return cfg.judge.llm or cfg.llm


def judge_files(cfg: RunConfig) -> dict[str, str]:
    """sha256 of the judge's template when the judge is on (part of the run's fingerprint)."""
    if not cfg.judge.enabled:
        return {}
    t = PromptLibrary(cfg.generation.prompts_dir).template(template_name(cfg.judge), {"query", "passage"})
    return {t.name: t.sha256}


def _empty_stats(n: int, enabled: bool) -> dict[str, Any]:
    return {"in": n, "kept": n, "enabled": enabled, "requested": {}, "model": None, "backend": None,
            "tokens": {"prompt": 0, "completion": 0, "cached_calls": 0, "calls": 0}}


def _prejudge(ctx: Context, records: list[QueryRecord], plan: list[list[Slot]],
              texts: dict[str, str]) -> dict[tuple[int, str], float]:
    """{(query index, doc id): pre-judge score} (retrieval scores, or the teacher's scorer)."""
    pj = ctx.cfg.judge.prejudge
    if pj.scorer == "retrieval":
        return {(i, s.doc_id): s.score for i, sl in enumerate(plan) for s in sl if s.score is not None}
    from synthir.stages.teacher import teacher_scorer

    _, score = teacher_scorer(ctx.cfg.teacher, ctx.cfg.llm, ctx.cfg.generation.prompts_dir)
    keys = [(i, s.doc_id) for i, sl in enumerate(plan) for s in sl]
    values = score([(records[i].query, texts[d]) for i, d in keys]) if keys else []
    return {k: float(v) for k, v in zip(keys, values)}


def _chat_verdicts(ctx: Context, asks: list[tuple[int, str]], records: list[QueryRecord],
                   texts: dict[str, str], stats: dict[str, Any]
                   ) -> dict[tuple[int, str], tuple[int | None, float | None, str | None]]:
    """Grades from the chat judge, through the response cache (and the budget, when metered);
    a prompt not sent because the budget ran out is absent from the result."""
    cfg = ctx.cfg
    llm_cfg = judge_llm(cfg)
    judge = ChatJudge(cfg.judge, llm_cfg, model_identity(llm_cfg), PromptLibrary(cfg.generation.prompts_dir))
    llm = ctx.llm if (ctx.llm is not None and cfg.judge.llm is None) else make_llm(cfg, llm_cfg)
    params = judge.sampling_params()
    tokens: Counter = Counter()
    by_group: dict[str, dict[str, float]] = {}
    out: dict[tuple[int, str], tuple[int | None, float | None, str | None]] = {}
    stopped = False
    batch = max(1, llm_cfg.batch_size)
    with bar(len(asks), f"judge {ctx.sh.name}", "verdict", ctx.progress) as b:
        for k in range(0, len(asks), batch):
            chunk = asks[k:k + batch]
            t0 = time.time()
            gens, stopped = send(llm, [judge.prompt(records[i].query, texts[d]) for i, d in chunk], params, stopped)
            sent = [g for g in gens if g is not None and not g.cached]
            per_call = (time.time() - t0) / len(sent) if sent else 0.0
            for (i, d), g in zip(chunk, gens):
                if g is None:
                    continue
                group = by_group.setdefault(f"judge/{records[i].query_lang}", {})
                count_call(tokens, group, g)
                if not g.cached:
                    group["seconds"] = round(group.get("seconds", 0.0) + per_call, 4)
                grade, error = parse_verdict(g)
                out[(i, d)] = (grade, None, error)
            b.update(len(chunk))
    stats.update(tokens={"prompt": 0, "completion": 0, "cached_calls": 0, "calls": 0, **tokens},
                 by_group=by_group, model=llm.model_id, backend=llm.backend, judge=judge.name,
                 template=judge.template.name, template_sha256=judge.template.sha256)
    if stopped:
        stats["budget_stopped"] = {"not_sent": len(asks) - len(out)}
    return out


def _yes_no_verdicts(ctx: Context, asks: list[tuple[int, str]], records: list[QueryRecord],
                     texts: dict[str, str], stats: dict[str, Any]
                     ) -> dict[tuple[int, str], tuple[int | None, float | None, str | None]]:
    """Grades from P(yes) (synthir.llm.judge.YesNoJudge), cut at judge.yes_no_cuts."""
    from synthir.llm.judge import YesNoJudge

    cfg = ctx.cfg
    judge = YesNoJudge(judge_llm(cfg), cfg.generation.prompts_dir, template_name(cfg.judge), "judge.kind yes_no")
    p = judge([(records[i].query, texts[d]) for i, d in asks]) if asks else []
    stats.update(tokens={"prompt": 0, "completion": 0, "cached_calls": 0, "calls": len(asks)},
                 by_group={}, model=judge.llm.model_id, backend=judge.llm.backend, judge=judge.name,
                 template=judge.template.name, template_sha256=judge.template.sha256)
    return {k: (grade_of_p_yes(float(v), cfg.judge.yes_no_cuts), round(float(v), 6), None) for k, v in zip(asks, p)}


def judge(ctx: Context) -> dict[str, Any]:
    cfg, shard, jc = ctx.cfg, ctx.sh, ctx.cfg.judge
    records = read_records(shard.kept, QueryRecord)
    if not jc.enabled or not records:
        write_records(shard.judgments, [])
        write_records(shard.judge_rejected, [])
        write_records(shard.judged, records)
        return _empty_stats(len(records), jc.enabled)
    index = load_index(cfg, ctx.run)
    depth = min(max(cfg.roundtrip.top_k, jc.candidates + 1), len(index.ids))
    scores, ids = index.search(get_embedder(cfg.embedder).encode([r.query for r in records], "query"), depth)
    plan = [slots(r, row_ids, row_scores, jc.candidates) for r, row_ids, row_scores in zip(records, ids, scores)]
    local = {p.id: p for p in read_records(shard.passages, Passage)}
    wanted = {s.doc_id for sl in plan for s in sl}
    passages = {i: local[i] for i in wanted if i in local}
    passages.update(ctx.run.store.passages(wanted - set(passages)))
    texts = {i: p.text for i, p in passages.items()}
    pre = _prejudge(ctx, records, plan, texts) if jc.prejudge.enabled else {}
    asks: list[tuple[int, str]] = []
    skipped: set[tuple[int, str]] = set()
    for i, sl in enumerate(plan):
        src = pre.get((i, sl[0].doc_id))
        for s in sl:
            if s.role == "source" or not jc.prejudge.enabled or ambiguous(src, pre.get((i, s.doc_id)), jc.prejudge.margin):
                asks.append((i, s.doc_id))
            else:
                skipped.add((i, s.doc_id))
    stats: dict[str, Any] = {"in": len(records), "enabled": True, "kind": jc.kind, "relabel": jc.relabel,
                             "requested": {}, "asked": len(asks), "prejudge_saved": len(skipped),
                             "prejudge": jc.prejudge.scorer if jc.prejudge.enabled else None}
    verdicts = (_chat_verdicts if jc.kind == "chat" else _yes_no_verdicts)(ctx, asks, records, texts, stats)
    judgments: list[Judgment] = []
    judged: list[QueryRecord] = []
    rejected: list[Rejected] = []
    outcomes: Counter = Counter()
    grades: dict[str, Counter] = {"source": Counter(), "candidate": Counter()}
    by_rank: dict[str, Counter] = defaultdict(Counter)
    conc = disc = top_agree = top_total = masked = negatives = pending = errors = malformed = demoted = 0
    lang_of = {i: p.lang for i, p in passages.items()}
    for i, (rec, sl) in enumerate(zip(records, plan)):
        if any((i, s.doc_id) not in verdicts and (i, s.doc_id) not in skipped for s in sl):
            pending += 1  # the budget ran out before its verdicts: judged on the next run
            continue
        mine = []
        for s in sl:
            grade, p_yes, error = verdicts.get((i, s.doc_id), (None, None, None))
            mine.append(Judgment(
                id=content_id("judgment", rec.id, s.doc_id), query_id=rec.id, query=rec.query, lang=rec.query_lang,
                doc_id=s.doc_id, role=s.role, rank=s.rank,  # type: ignore[arg-type]
                retrieval_score=None if s.score is None else round(s.score, 6),
                prejudge_score=None if (i, s.doc_id) not in pre else round(pre[(i, s.doc_id)], 6),
                grade=grade, p_yes=p_yes, skipped=(i, s.doc_id) in skipped, error=error, judge=stats["judge"]))
            if grade is not None:
                grades[s.role][str(grade)] += 1
            elif error:
                errors += error.startswith("llm_error")
                malformed += error.startswith("malformed")
        judgments += mine
        out, decision = relabel(rec, mine, jc, lang_of)
        outcomes[decision.outcome] += 1
        demoted += decision.demoted
        by_rank[str(rec.roundtrip_rank)][decision.outcome] += 1
        masked += len(decision.masked - {rec.passage_id})
        negatives += len(decision.irrelevant)
        c, d, top = agreement(mine)
        conc, disc = conc + c, disc + d
        if top is not None:
            top_total += 1
            top_agree += top
        (rejected if isinstance(out, Rejected) else judged).append(out)  # type: ignore[arg-type]
    write_records(shard.judgments, judgments)
    write_records(shard.judge_rejected, rejected)
    write_records(shard.judged, judged)
    stats.update(kept=len(judged), outcomes={k: outcomes[k] for k in OUTCOMES}, demoted=demoted,
                 grades={k: dict(v) for k, v in grades.items()},
                 agreement={"concordant": conc, "discordant": disc, "top1_agree": top_agree, "top1_total": top_total},
                 by_source_rank={k: dict(v) for k, v in sorted(by_rank.items())},
                 masked_candidates=masked, verified_negatives=negatives, pending=pending,
                 verdict_errors=errors, malformed_verdicts=malformed,
                 complete=errors == 0 and pending == 0 and "budget_stopped" not in stats)
    if jc.kind == "yes_no":  # the spread the cuts are applied to (synthir.filters.judge_spread)
        stats["p_yes"] = {role: histogram(j.p_yes for j in judgments if j.role == role and j.p_yes is not None)
                          for role in ("source", "candidate")}
    return stats


def _funnel(f: Any, stats: dict[str, Any]) -> None:
    if not stats.get("enabled") or "outcomes" not in stats:
        return
    j = f.judge
    for k in ("in", "kept", "asked", "prejudge_saved", "demoted", "masked_candidates", "verified_negatives",
              "pending", "verdict_errors", "malformed_verdicts"):
        j[k] = j.get(k, 0) + stats.get(k, 0)
    for k in ("judge", "template", "template_sha256", "kind", "relabel", "prejudge", "model", "backend"):
        if stats.get(k) is not None or k not in j:
            j[k] = stats.get(k)
    for name in ("outcomes", "agreement"):
        acc = j.setdefault(name, {})
        for k, v in stats.get(name, {}).items():
            acc[k] = acc.get(k, 0) + v
    for role, hist in (stats.get("p_yes") or {}).items():
        spread = j.setdefault("p_yes", {})
        spread[role] = merge(spread.get(role), hist)
    for name in ("grades", "by_source_rank"):
        acc = j.setdefault(name, {})
        for key, counts in stats.get(name, {}).items():
            sub = acc.setdefault(key, {})
            for k, v in counts.items():
                sub[k] = sub.get(k, 0) + v


JUDGE = Stage("judge", "shard", reads=("kept", "passages", "corpus"), writes=("judged", "judgments", "judge_rejected"),
              run=judge, key=lambda cfg: cfg.judge.model_dump_json(exclude={"llm": {"price"}}) + (
                  cfg.teacher.model_dump_json() if cfg.judge.prejudge.scorer == "teacher" else ""),
              rejected="judge_rejected", group="queries", counts=(("judged", "judge_kept"),), llm=True, funnel=_funnel)
