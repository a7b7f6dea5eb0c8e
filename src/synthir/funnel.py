"""The per-stage funnel of a run, built once from the stages' declared outputs and done-markers
(so the numbers always equal the published row counts).

Generic per stage (synthir.stages.base.Stage): seconds from its markers; tokens, models and
requested samples from LLM stages; drops per (Rejected.stage, reason) from its `rejected`
output; record counts per language / method from its `counts` outputs. Anything else a stage
reports (rank histogram, mining skips, language agreement, contamination, index) is folded in
by the stage's own `funnel` hook.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, TypedDict

from data_schemas.config import RunConfig
from data_schemas.records import DocumentRecord, QueryRecord, Rejected
from synthir.budget import read_summary
from synthir.query_form import examples_forms, form
from synthir.rundir import RunDir, read_records
from synthir.stages import REPORTED, Stage
from synthir.stages.base import read_marker

QUERY_COLUMNS = ("prompts", "generated", "parsed", "filtered", "roundtrip_kept", "judge_kept")


class Funnel(TypedDict):
    """The funnel of a run (funnel.json, the card, the summary)."""

    ingest: dict[str, int]
    sample: dict[str, Any]
    corpus: dict[str, Any]
    roundtrip_match: dict[str, int]
    queries: dict[str, int]
    by_language: dict[str, dict[str, int]]
    by_method: dict[str, dict[str, int]]
    documents: dict[str, dict[str, int]]
    dropped: dict[str, dict[str, int]]
    tokens: dict[str, int]
    tokens_by_stage: dict[str, dict[str, int]]
    models: list[dict[str, str]]
    seconds: dict[str, float]
    mining: dict[str, int]
    contamination: dict[str, int]
    source_rank: dict[str, int]
    language_id: dict[str, dict[str, Any]]
    index: dict[str, Any]
    teacher: dict[str, Any]
    judge: dict[str, Any]
    passage_yield: dict[str, dict[str, Any]]
    query_form: dict[str, dict[str, Any]]
    rounds: dict[str, Any]
    budget: dict[str, Any] | None


@dataclass
class Acc:
    """What the stages fold their stats into (the `funnel` hooks write its fields)."""

    ingest: dict[str, int] = field(default_factory=dict)
    sample: dict[str, Any] = field(default_factory=dict)
    corpus: dict[str, Any] = field(default_factory=dict)
    roundtrip_match: Counter = field(default_factory=Counter)
    groups: dict[str, dict[str, Counter]] = field(default_factory=lambda: {
        "lang": defaultdict(Counter), "method": defaultdict(Counter), "method_lang": defaultdict(Counter),
        "documents": defaultdict(Counter)})
    dropped: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    tokens: Counter = field(default_factory=Counter)
    stage_tokens: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    models: set[tuple[str, str]] = field(default_factory=set)
    seconds: Counter = field(default_factory=Counter)
    mining: Counter = field(default_factory=Counter)
    contamination: Counter = field(default_factory=Counter)
    source_rank: Counter = field(default_factory=Counter)
    language: dict[str, dict[str, int]] = field(default_factory=dict)
    index: dict[str, Any] = field(default_factory=dict)
    teacher: dict[str, Any] = field(default_factory=dict)
    judge: dict[str, Any] = field(default_factory=dict)
    kept_passages: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    kept_queries: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    copied: Counter = field(default_factory=Counter)
    retired: Counter = field(default_factory=Counter)  # few-shot examples the copy probe retired


def _rank_key(k: str) -> int:
    return int(k) if k.isdigit() else 10**9


def _fold_markers(acc: Acc, stage: Stage, markers: list[dict[str, Any]]) -> None:
    for st in markers:
        acc.seconds[stage.name] += st.get("seconds", 0.0)
        if stage.llm:
            acc.tokens.update(st["tokens"])
            acc.stage_tokens[stage.name].update(st["tokens"])
            if st.get("model"):
                acc.models.add((st["backend"], st["model"]))
            for method, langs in st["requested"].items():
                for lang, n in langs.items():
                    if stage.group == "queries":
                        acc.groups["lang"][lang]["prompts"] += n
                        acc.groups["method"][method]["prompts"] += n
                        acc.groups["method_lang"][f"{method}/{lang}"]["prompts"] += n
                    elif stage.group == "documents":
                        acc.groups["documents"][method]["prompts"] += n
        if stage.funnel:
            stage.funnel(acc, st)


def _fold_files(acc: Acc, stage: Stage, run: RunDir) -> None:
    if stage.rejected:
        for path in stage.targets(run, None, (stage.rejected,)):
            for r in read_records(path, Rejected, missing_ok=True):
                acc.dropped[r.stage][r.reason] += 1
                if r.reason == "copied_example":
                    acc.copied[f"{r.method}/{r.lang}"] += 1
                if r.reason == "llm_error" and stage.group == "queries":
                    acc.groups["lang"][r.lang]["llm_error"] += 1
                    acc.groups["method"][r.method]["llm_error"] += 1
                    acc.groups["method_lang"][f"{r.method}/{r.lang}"]["llm_error"] += 1
                elif r.reason == "llm_error" and stage.group == "documents":
                    acc.groups["documents"][r.method]["llm_error"] += 1
    for name, column in stage.counts:
        for path in stage.targets(run, None, (name,)):
            if stage.group == "queries":
                for q in read_records(path, QueryRecord, missing_ok=True):
                    acc.groups["lang"][q.query_lang][column] += 1
                    acc.groups["method"][q.method][column] += 1
                    acc.groups["method_lang"][f"{q.method}/{q.query_lang}"][column] += 1
                    if column == "roundtrip_kept":
                        acc.kept_passages[f"{q.method}/{q.query_lang}"].add(q.passage_id)
                        acc.kept_queries[f"{q.method}/{q.query_lang}"].append(q.query)
            else:
                for d in read_records(path, DocumentRecord, missing_ok=True):
                    acc.groups["documents"][d.provenance.generator][column] += 1


def _table(counts: dict[str, Counter], keys: list[str], columns: tuple[str, ...]) -> dict[str, dict[str, int]]:
    out = {}
    for k in keys:
        c = counts[k]
        row = {"prompts": c["prompts"], "generated": c["prompts"] - c["llm_error"], "parsed": c["parsed"]}
        out[k] = {**row, **{col: c[col] for col in columns if col not in row}}
    return out


def _yield(acc: Acc) -> dict[str, dict[str, Any]]:
    """Per `method/language`: sampled passages, passages with >= 1 kept query (and their
    share), kept pairs per sampled passage, the share of completions that copied a few-shot
    example, the examples the copy probe retired (stage probe), and kept pairs per hour of
    bootstrap + probe + generate time with the share of those stages' calls the cache served
    (issue: yield where users look)."""
    sampled = acc.sample.get("sampled", 0)
    stages = ("bootstrap", "probe", "generate")
    hours = sum(acc.seconds.get(s, 0.0) for s in stages) / 3600  # pools cost too
    calls = sum(acc.stage_tokens.get(s, {}).get("calls", 0) for s in stages)
    cached = sum(acc.stage_tokens.get(s, {}).get("cached_calls", 0) for s in stages)
    out = {}
    for key, c in sorted(acc.groups["method_lang"].items()):
        generated = c["prompts"] - c["llm_error"]
        with_kept = len(acc.kept_passages.get(key, ()))
        out[key] = {"passages": sampled, "passages_with_kept": with_kept,
                    "passages_with_kept_share": round(with_kept / sampled, 4) if sampled else None,
                    "kept": c["roundtrip_kept"], "kept_per_passage": round(c["roundtrip_kept"] / sampled, 3) if sampled else None,
                    "copied_example_rate": round(acc.copied[key] / generated, 4) if generated else None,
                    "retired_examples": acc.retired[key],
                    "kept_pairs_per_hour": round(c["roundtrip_kept"] / hours, 1) if hours else None,
                    # calls the LLM cache served: a re-run's per-hour rate is not a generation speed
                    "cached_call_share": round(cached / calls, 4) if calls else None}
    return out


def _query_form(cfg: RunConfig, acc: Acc) -> dict[str, dict[str, Any]]:
    """Per `method/language`: the form of the round-trip kept queries and, when the method has
    an examples_file, of the user's in-domain examples for that language (synthir.query_form)."""
    keys = sorted(acc.kept_queries)
    examples = examples_forms(cfg, keys)
    return {k: {"kept": form(acc.kept_queries[k]), **({"examples": examples[k]} if k in examples else {})}
            for k in keys}


def compute_funnel(cfg: RunConfig, run: RunDir) -> Funnel:
    """The funnel of the run dir (see module doc and `Funnel`). Query stages count requested
    samples (prompts x num_queries) per target language and per method: prompts -> generated
    (the LLM answered) -> parsed -> filtered -> roundtrip_kept; documents per document method:
    prompts -> generated -> parsed -> verified."""
    acc = Acc()
    shards = run.shard_dirs()
    for stage in REPORTED:
        places = shards if stage.scope == "shard" else [None]
        markers = [m for m in (read_marker(stage.marker(run, s)) for s in places) if m is not None]
        _fold_markers(acc, stage, markers)
        _fold_files(acc, stage, run)
    _add_rounds(acc, run)
    languages = _table(acc.groups["lang"], list(cfg.languages), QUERY_COLUMNS)
    return {
        "ingest": acc.ingest,
        "sample": acc.sample,
        "corpus": acc.corpus,
        "roundtrip_match": dict(acc.roundtrip_match),
        "queries": {k: sum(v[k] for v in languages.values()) for k in QUERY_COLUMNS},
        "by_language": languages,
        "by_method": _table(acc.groups["method"], sorted(k for k in acc.groups["method"] if k), QUERY_COLUMNS),
        "documents": _table(acc.groups["documents"], sorted(k for k in acc.groups["documents"] if k),
                            ("verified",)),
        "dropped": {stage: dict(c) for stage, c in acc.dropped.items()},
        "tokens": dict(acc.tokens),
        "tokens_by_stage": {k: dict(v) for k, v in sorted(acc.stage_tokens.items())},
        "models": [{"backend": b, "model": m} for b, m in sorted(acc.models)],
        "seconds": {k: round(v, 2) for k, v in acc.seconds.items()},
        "mining": dict(acc.mining),
        "contamination": dict(acc.contamination) if cfg.contamination.beir_dirs else {},
        "source_rank": {k: acc.source_rank[k] for k in sorted(acc.source_rank, key=_rank_key)},
        "language_id": {lang: {**v, "agreement": round(v["agree"] / v["checked"], 4) if v["checked"] else None}
                        for lang, v in sorted(acc.language.items())},
        "index": {"embedder": acc.index.get("embedder"), "index": acc.index.get("index"),
                  "rows": acc.index.get("rows")},
        "teacher": acc.teacher,
        "judge": _judge(acc.judge, cfg),
        "passage_yield": _yield(acc),
        "query_form": _query_form(cfg, acc),
        "rounds": _rounds(run),
        "budget": read_summary(run.budget),
    }


def _add_rounds(acc: Acc, run: RunDir) -> None:
    """Target mode: the passages of rounds after the first count as sampled too."""
    from data_schemas.records import Passage

    rounds = _rounds(run).get("rounds", [])
    if len(rounds) < 2 or not acc.sample:
        return
    sample = {**acc.sample, "sampled_by_lang": dict(acc.sample.get("sampled_by_lang", {}))}
    for r in rounds[1:]:
        for k in range(r.get("first_shard", 0), r.get("first_shard", 0) + (r.get("shards") or 0)):
            for p in read_records(run.shard(k).passages, Passage, missing_ok=True):
                sample["sampled"] = sample.get("sampled", 0) + 1
                sample["sampled_by_lang"][p.lang] = sample["sampled_by_lang"].get(p.lang, 0) + 1
    acc.sample = sample


def _judge(j: dict[str, Any], cfg: RunConfig) -> dict[str, Any]:
    """The judge's counts plus the agreement rates (pairwise concordance of grades with the
    round-trip ranks; the judge's best passage being the best-ranked one); for a yes/no judge
    the P(yes) quantiles of sources and candidates and, when the relevance cut sits above the
    median source, `cut_warning` (synthir.filters.judge_spread)."""
    if not j:
        return {}
    if j.get("p_yes"):
        from synthir.filters.judge_spread import cut_warning, quantiles

        j["p_yes_quantiles"] = {role: quantiles(h) for role, h in sorted(j["p_yes"].items())}
        j["cut_warning"] = cut_warning(j, cfg.judge.yes_no_cuts, cfg.judge.relevant_min)
    a = j.get("agreement", {})
    pairs = a.get("concordant", 0) + a.get("discordant", 0)
    j["agreement"] = {**a, "pairwise": round(a.get("concordant", 0) / pairs, 4) if pairs else None,
                      "top1": round(a.get("top1_agree", 0) / a["top1_total"], 4) if a.get("top1_total") else None}
    return j


def _rounds(run: RunDir) -> dict[str, Any]:
    """Target mode's rounds.json ({} when the run has no target)."""
    import json

    try:
        return json.loads(run.rounds.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
