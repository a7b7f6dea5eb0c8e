"""Stage `bootstrap` (whole run, before generate): in-domain few-shot examples, the point of
Promptagator (Dai et al., 2022: the examples come from the target task). For every
`generation.queries[]` entry with `examples: bootstrap`, a pilot round runs the method with its
generic pool (examples_file or examples_dir) on `bootstrap_passages` passages drawn from the
sampled ones (seeded), sends the answers through the cheap filters and the round trip over the
whole corpus, and keeps the best pair per passage (source rank, then score), up to 8 per
language (Promptagator's few-shot), as that method's pool for the main round. A language whose
pilot kept nothing keeps the generic pool (counted as `fallback`).

Reads: passages (round 0's shards), corpus (through the index). Writes: bootstrap_examples
(BootstrapExample rows; empty when no method bootstraps). Stats: tokens, requested, model,
backend, methods {index: {lang: {pilot_prompts, parsed, filtered, kept, not_clearly_in_language
(kept pilot queries not taken as examples: see in_language), examples}}}, fallback.
The pilot's calls go through the response cache like every call, so a re-run repeats none.
"""

from __future__ import annotations

import random
from collections import Counter
from typing import TYPE_CHECKING, Any

from data_schemas.config import RunConfig
from data_schemas.records import BootstrapExample, Passage, QueryRecord
from synthir.embed.registry import get_embedder
from synthir.filters.queries import filter_queries
from synthir.filters.roundtrip import roundtrip_filter
from synthir.generators import language_checker, query_generator
from synthir.ids import content_id
from synthir.prompting import PromptLibrary
from synthir.rounds import first_round_passages
from synthir.rundir import RunDir, write_records
from synthir.stages.base import Context, Stage
from synthir.stages.common import add_llm_stats, bar, make_llm, run_plan
from synthir.stages.filter import filter_langid
from synthir.stages.index import load_index

if TYPE_CHECKING:
    from synthir.langid import LanguageID

MAX_EXAMPLES = 8  # Promptagator: "from 8 examples"


def pilot_passages(cfg: RunConfig, run: RunDir, n: int) -> list[Passage]:
    """`n` of the run's sampled passages (round 0 in target mode: later rounds leave the pool
    alone), drawn with an RNG seeded on the run seed."""
    passages = first_round_passages(run)
    rng = random.Random(f"{cfg.sample.seed}:bootstrap")
    return rng.sample(passages, min(n, len(passages)))


def in_language(kept: list[QueryRecord], langid: LanguageID | None) -> tuple[list[QueryRecord], Counter]:
    """The kept pilot queries fit to be examples: unambiguously in their language (lingua's
    detected language == the query language), stricter than the filters' check, which lets a
    text pass at 20% confidence. On the cross-lingual demo corpus the pilot's "French" queries
    for English passages were often English keyword lists that passed the filters; as examples
    they taught the main round to answer in the passage's language (docs/results.md §8k).
    Returns (fit, skipped per query language); `langid` None (language checks off): all fit."""
    fit: list[QueryRecord] = []
    skipped: Counter = Counter()
    for r in kept:
        if langid is None or langid.check(r.query, r.query_lang).detected in ("", r.query_lang):
            fit.append(r)
        else:
            skipped[r.query_lang] += 1
    return fit, skipped


def choose(kept: list[QueryRecord], passages: dict[str, Passage], method: int) -> list[BootstrapExample]:
    """The examples of one method: per query language, the best kept query of each passage,
    best first (source rank, then score), at most MAX_EXAMPLES."""
    best: dict[tuple[str, str], QueryRecord] = {}
    for r in sorted(kept, key=lambda r: (r.roundtrip_rank or 10**9, -(r.roundtrip_score or 0.0), r.id)):
        best.setdefault((r.query_lang, r.passage_id), r)
    per_lang: Counter = Counter()
    out = []
    for (lang, pid), r in best.items():
        if per_lang[lang] >= MAX_EXAMPLES:
            continue
        per_lang[lang] += 1
        out.append(BootstrapExample(
            id=content_id("bootstrap", method, r.id)[:12], method=method, lang=lang, passage_id=pid,
            passage=passages[pid].text, query=r.query, roundtrip_rank=r.roundtrip_rank or 0,
            roundtrip_score=r.roundtrip_score or 0.0, type=r.attributes.get("query_type")))
    return out


def bootstrap(ctx: Context) -> dict[str, Any]:
    cfg = ctx.cfg
    todo = [(i, m) for i, m in enumerate(cfg.generation.queries) if m.examples == "bootstrap"]
    stats: dict[str, Any] = {"methods": {}, "fallback": 0, "requested": {},
                             "tokens": {"prompt": 0, "completion": 0, "cached_calls": 0, "calls": 0}}
    rows: list[BootstrapExample] = []
    complete = True
    if todo:
        lib = PromptLibrary(cfg.generation.prompts_dir)
        llm = ctx.llm or make_llm(cfg)
        langid = language_checker(cfg)
        filter_lang = filter_langid(cfg)  # None when filters.language_check is off
        for i, method in todo:
            passages = pilot_passages(cfg, ctx.run, method.bootstrap_passages)
            by_id = {p.id: p for p in passages}
            gen = query_generator(cfg, method.model_copy(update={"examples": "pool"}), lib)
            items = gen.build_prompts(passages, cfg.languages)
            with bar(len(items), f"bootstrap {i}", "prompt", ctx.progress) as b:
                records, _, st = run_plan(llm, [(gen, items)], langid, QueryRecord, max(1, cfg.llm.batch_size), b)
            filtered, _, _ = filter_queries(records, by_id, cfg.filters, filter_lang)
            kept, _, _ = roundtrip_filter(filtered, load_index(cfg, ctx.run), get_embedder(cfg.embedder),
                                          cfg.roundtrip.top_k, ctx.run.store.equivalence(cfg.roundtrip.match))
            complete = complete and bool(st["complete"])
            fit, off_language = in_language(kept, filter_lang)
            chosen = choose(fit, by_id, i)
            rows += chosen
            add_llm_stats(stats, st)
            stats["methods"][str(i)] = {lang: {
                "pilot_prompts": sum(1 for it in items if it.lang == lang),
                "parsed": sum(1 for r in records if r.query_lang == lang),
                "filtered": sum(1 for r in filtered if r.query_lang == lang),
                "kept": sum(1 for r in kept if r.query_lang == lang),
                "not_clearly_in_language": off_language[lang],
                "examples": sum(1 for r in chosen if r.lang == lang)} for lang in cfg.languages}
            stats["fallback"] += sum(1 for lang in cfg.languages if not stats["methods"][str(i)][lang]["examples"])
        stats.update(model=llm.model_id, backend=llm.backend, complete=complete)
    write_records(ctx.run.bootstrap_examples, rows)
    return stats


BOOTSTRAP = Stage("bootstrap", "run", reads=("passages", "corpus", "clusters"), writes=("bootstrap_examples",),
                  run=bootstrap, llm=True)
