"""Stage `probe` (whole run, after bootstrap, before generate): the main round's few-shot pools,
and the copy probe that retires the examples a small model copies.

Why: with the embedded 270M model, one example of a pool drew most of the copies (French GNOME
help: 46 of 114 copied completions repeated "système d'exploitation libre développé par des
bénévoles"; German, bootstrap pool: 89 of 107 repeated "öffneten Sie nicht das Dokument").
Which example a model copies depends on the model and the corpus, so it is measured, not
guessed: Promptagator's oversample-and-filter, applied to the examples.

For every `generation.queries[]` entry with `example_probe` > 0, the method runs with its pool
(the bootstrap pilot's when it bootstraps, else its examples_file / examples_dir) on
`example_probe` passages drawn from the sampled ones (seeded; not the pilot's), with the run's
sampling (`num_queries` samples per prompt). Each completion rejected as `copied_example` is
attributed to the example it copies (`QueryGenerator.copy_of`). In a language whose round copied
in more than TARGET_RATE of its completions, examples copied in at least RETIRE_AT completions
are retired, most copied first, keeping at least MIN_POOL and at least KEEP_FACTOR x
`num_examples` active (so prompts still differ in the examples they show); the probe then runs
again with the smaller pool, up to PROBE_ROUNDS rounds or until a round retires nothing. The
floor is measured: each retirement narrows the pool, and on German GNOME help a pool retired down
to 2 of 8 examples (4 shown per prompt) gave 24% fewer kept pairs and a worse student; down to 4
of 8 (every prompt the same 4 examples) it gave 3x the near-duplicate queries and was still worse
than no probe (docs/results.md §8l). The shipped pools have 16 examples per language for that
reason: the probe can retire 8 and every prompt still draws 4 of 8. Retired
examples stay in the pool, marked: never shown, and copies of them are still rejected. The
probe's calls go through the response cache; when its last round's pool is the final one, the
main round gets those passages' completions back from the cache.

Reads: passages (round 0's shards), bootstrap_examples. Writes: example_pools (PoolExample rows of
every method that bootstraps or probes; `generate` reads its pools here). Stats: tokens,
requested, model, backend, methods {index: {lang: {pool, rounds, completions, copies,
copy_rate_per_round, retired, retired_queries}}} and retired {method/lang: n} (probed methods
only; the funnel's passage_yield shows it as retired_examples).
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

from data_schemas.config import QueryMethodConfig, RunConfig
from data_schemas.records import BootstrapExample, Passage, PoolExample, QueryRecord, Rejected
from synthir.generators import language_checker, query_generator
from synthir.generators.queries import QueryGenerator, example_id
from synthir.prompting import PromptLibrary
from synthir.rounds import first_round_passages
from synthir.rundir import RunDir, read_records, write_records
from synthir.stages.base import Context, Stage
from synthir.stages.bootstrap import pilot_passages
from synthir.stages.common import add_llm_stats, bar, make_llm, run_plan

RETIRE_AT = 2  # copies in one probe round (one copy can be chance)
MIN_POOL = 2  # examples kept per language, however often copied (or KEEP_FACTOR x num_examples, if more)
KEEP_FACTOR = 2  # active examples per example shown in a prompt: prompts keep varying
PROBE_ROUNDS = 3
TARGET_RATE = 0.03  # a language whose round copied in <= 3% of its completions retires nothing more


def probe_passages(cfg: RunConfig, run: RunDir, method: QueryMethodConfig) -> list[Passage]:
    """`method.example_probe` of the run's sampled passages (round 0 in target mode), drawn with
    an RNG seeded on the run seed; when the method bootstraps, the pilot's passages come last
    (used only when too few others were sampled: a passage's own example is held back from its
    prompts anyway)."""
    passages = first_round_passages(run)
    pilot = ({p.id for p in pilot_passages(cfg, run, method.bootstrap_passages)}
             if method.examples == "bootstrap" else set())
    rng = random.Random(f"{cfg.sample.seed}:probe")
    others = [p for p in passages if p.id not in pilot]
    chosen = rng.sample(others, min(method.example_probe, len(others)))
    rest = [p for p in passages if p.id in pilot]
    return chosen + rng.sample(rest, min(method.example_probe - len(chosen), len(rest)))


def copied(gen: QueryGenerator, rejected: list[Rejected]) -> Counter:
    """Copied completions per (language, example id), from the `copied_example` rejects."""
    out: Counter = Counter()
    for r in rejected:
        if r.reason != "copied_example":
            continue
        read = gen.read_output(r.raw, False)
        hit = None if isinstance(read, tuple) else gen.copy_of(read.query, r.lang)
        if hit:
            out[(r.lang, example_id(hit[0]))] += 1
    return out


def retire(rows: list[PoolExample], copies: Counter, settled: set[str] = frozenset(),
           floor: int = MIN_POOL) -> list[PoolExample]:
    """Rows with this round's copies added; the active examples copied >= RETIRE_AT times
    retired, most copied first (ties: pool order), while more than `floor` stay active in
    their language, except in the `settled` languages (copy rate already at TARGET_RATE:
    retiring more would only narrow the pool)."""
    rows = [r.model_copy(update={"copies": r.copies + copies[(r.lang, r.id)]}) for r in rows]
    active = Counter(r.lang for r in rows if not r.retired)
    order = sorted(range(len(rows)), key=lambda i: -copies[(rows[i].lang, rows[i].id)])
    for i in order:
        r = rows[i]
        if (not r.retired and r.lang not in settled and copies[(r.lang, r.id)] >= RETIRE_AT
                and active[r.lang] > floor):
            rows[i] = r.model_copy(update={"retired": True})
            active[r.lang] -= 1
    return rows


def initial_pool(gen: QueryGenerator, method: int, probed: bool) -> list[PoolExample]:
    """The generator's pool as PoolExample rows (`source`: the pool's name, `probed:` in front
    when the probe will change it)."""
    out = []
    for lang, rows in gen.copy_pool.items():
        source = ("probed:" if probed else "") + gen.pool_names[lang]
        for r in rows:
            out.append(PoolExample(
                id=example_id(r), method=method, lang=lang, passage=str(r["passage"]), query=str(r["query"]),
                source=source, type=r.get("type"), passage_id=r.get("passage_id"),
                roundtrip_rank=r.get("roundtrip_rank"), roundtrip_score=r.get("roundtrip_score")))
    return out


def by_method(records: list[Any]) -> dict[int, dict[str, list[dict[str, Any]]]]:
    """Example records (PoolExample or BootstrapExample) as {method index: {lang: rows}}, the
    `pool` argument of QueryGenerator (None fields left out)."""
    out: dict[int, dict[str, list[dict[str, Any]]]] = {}
    for ex in records:
        row = {k: v for k, v in ex.model_dump().items() if v is not None}
        out.setdefault(ex.method, {}).setdefault(ex.lang, []).append(row)
    return out


def bootstrap_pools(run: RunDir, missing_ok: bool = True) -> dict[int, dict[str, list[dict[str, Any]]]]:
    """The bootstrap pilots' pools (stage bootstrap's output; empty when none ran and
    `missing_ok`), as `by_method`."""
    return by_method(read_records(run.bootstrap_examples, BootstrapExample, missing_ok=missing_ok))


def pools(run: RunDir) -> dict[int, dict[str, list[dict[str, Any]]]]:
    """The main round's pools (this stage's output): {method index: {lang: example rows}},
    retired rows included, marked (the generator never draws them)."""
    return by_method(read_records(run.example_pools, PoolExample, missing_ok=True))


def probe_method(ctx: Context, llm: Any, langid: Any, lib: PromptLibrary, i: int, rows: list[PoolExample],
                 stats: dict[str, Any]) -> tuple[list[PoolExample], dict[str, dict[str, Any]], bool]:
    """The copy probe of method `i` from its pool `rows` (see module doc): (the rows with
    copies counted and retirements marked, per-language stats, whether every call succeeded).
    Adds the calls' tokens and samples to `stats`."""
    cfg = ctx.cfg
    method = cfg.generation.queries[i]
    as_pool = method.model_copy(update={"examples": "pool"})
    passages = probe_passages(cfg, ctx.run, method)
    per_lang: dict[str, dict[str, Any]] = {lang: {
        "pool": sum(r.lang == lang for r in rows), "rounds": 0, "completions": 0, "copies": 0,
        "copy_rate_per_round": []} for lang in cfg.languages}
    complete = True
    floor = max(MIN_POOL, KEEP_FACTOR * method.num_examples)  # prompts still vary (module doc)
    for rnd in range(PROBE_ROUNDS):
        gen = query_generator(cfg, as_pool, lib, by_method(rows).get(i))
        items = gen.build_prompts(passages, cfg.languages)
        with bar(len(items), f"probe {i} round {rnd + 1}", "prompt", ctx.progress) as b:
            _, rejected, st = run_plan(llm, [(gen, items)], langid, QueryRecord, max(1, cfg.llm.batch_size), b)
        complete = complete and bool(st["complete"])
        asked = add_llm_stats(stats, st)
        copies = copied(gen, rejected)
        settled = set()
        for lang, s in per_lang.items():
            n = sum(c for (lg, _), c in copies.items() if lg == lang)
            rate = n / asked[lang] if asked[lang] else 0.0
            s["rounds"] += 1
            s["completions"] += asked[lang]
            s["copies"] += n
            s["copy_rate_per_round"].append(round(rate, 4))
            if rate <= TARGET_RATE:
                settled.add(lang)
        before = sum(r.retired for r in rows)
        rows = retire(rows, copies, settled, floor)
        if sum(r.retired for r in rows) == before:
            break
    for lang, s in per_lang.items():
        gone = [r.query for r in rows if r.lang == lang and r.retired]
        s.update(retired=len(gone), retired_queries=gone)
    return rows, per_lang, complete


def probe(ctx: Context) -> dict[str, Any]:
    cfg = ctx.cfg
    boot = bootstrap_pools(ctx.run)
    stats: dict[str, Any] = {"methods": {}, "requested": {},
                             "tokens": {"prompt": 0, "completion": 0, "cached_calls": 0, "calls": 0}}
    out: list[PoolExample] = []
    lib = PromptLibrary(cfg.generation.prompts_dir)
    llm, langid, complete = None, None, True
    for i, method in enumerate(cfg.generation.queries):
        if method.examples != "bootstrap" and not method.example_probe:
            continue
        gen = query_generator(cfg, method.model_copy(update={"examples": "pool"}), lib, boot.get(i))
        rows = initial_pool(gen, i, bool(method.example_probe))
        if method.example_probe:
            llm = llm or ctx.llm or make_llm(cfg)
            langid = langid or language_checker(cfg)
            rows, per_lang, ok = probe_method(ctx, llm, langid, lib, i, rows, stats)
            complete = complete and ok
            stats["methods"][str(i)] = per_lang
            for lang, s in per_lang.items():
                stats.setdefault("retired", {})[f"{method.method}/{lang}"] = s["retired"]
        out += rows
    if llm is not None:
        stats.update(model=llm.model_id, backend=llm.backend, complete=complete)
    write_records(ctx.run.example_pools, out)
    return stats


def _funnel(f: Any, stats: dict[str, Any]) -> None:
    f.retired.update(Counter(stats.get("retired", {})))


PROBE = Stage("probe", "run", reads=("passages", "bootstrap_examples"), writes=("example_pools",),
              run=probe, llm=True, funnel=_funnel)
