"""`synthir plan CONFIG --pilot N`: run N passages through every stage, then predict what it takes
to reach `target.kept_pairs` (total or per query language).

The pilot is the same config with `sample.n: N`, run in its own dir (default
`<output.dir>/.synthir/plan`, never published or pushed with the dataset; a second `plan` reuses
it, and its LLM calls are in the response cache). Measured, per method x query language: the
requested samples and how many were parsed, passed the filters, kept by the round trip and
kept after the judge; per LLM stage and method/language: calls per sampled passage, prompt and
completion tokens per call, seconds per call actually sent; the fixed cost (loading the
model(s), ingesting and embedding the corpus, the bootstrap pilot) and the other stages'
seconds per passage.

Prediction: each requested sample is a Bernoulli trial "ends as a kept pair" with rate p (kept /
samples), so a passage yields p x (samples per passage) kept pairs and the target needs
K / (p x samples per passage) passages (per language: the largest of the languages' needs).
The interval is the 95% Wilson score interval of p (Wilson, 1927): the passages, calls,
tokens, hours and cost at its upper and lower end. Calls and tokens scale with passages;
hours = fixed + passages x (seconds per passage); cost uses `llm.price` (per million prompt /
completion tokens; the judge's own `judge.llm.price` for its calls). Not in the interval: the
spread of tokens and seconds per call (measured as means), and the round granularity of
target mode (a real run can pass the target by part of a round).
"""

from __future__ import annotations

import math
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from data_schemas.config import LLMConfig, RunConfig
from data_schemas.records import QueryRecord
from synthir.errors import ConfigError
from synthir.io.files import write_json_atomic
from synthir.rundir import RunDir, read_records

Z95 = 1.959964
FIXED = ("ingest", "index", "bootstrap", "probe")  # once per run, whatever its size


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a binomial proportion k/n (n > 0)."""
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def pilot_config(cfg: RunConfig, n: int, out: Path) -> RunConfig:
    """`cfg` with sample.n = n, output.dir = out, no target, budget or push."""
    data = cfg.model_dump(mode="json")
    data["sample"]["n"] = n
    data["output"]["dir"] = str(out)
    data["output"]["hub"]["repo_id"] = None
    data.pop("target", None)
    data.pop("budget", None)
    return RunConfig.model_validate(data)


def _preload(cfg: RunConfig) -> float:
    """Load the LLM(s) the pilot will call, so their load time is measured once (fixed) and not
    spread over the pilot's passages; returns the seconds it took."""
    from synthir.stages.common import make_llm

    t0 = time.time()
    needs = [cfg.llm] if cfg.generation.queries else []
    if cfg.judge.enabled and cfg.judge.kind == "chat":
        needs.append(cfg.judge.llm or cfg.llm)
    for llm_cfg in needs:
        llm = make_llm(cfg, llm_cfg)
        getattr(llm, "inner", llm)  # CachedLLM builds its backend lazily
    return round(time.time() - t0, 3)


def _group_counts(run: RunDir) -> dict[str, Counter]:
    """{method/lang: Counter(parsed, filtered, roundtrip_kept, kept)} from the pilot's files."""
    out: dict[str, Counter] = defaultdict(Counter)
    for shard in run.shard_dirs():
        for name, column in (("queries", "parsed"), ("filtered", "filtered"), ("kept", "roundtrip_kept"),
                             ("judged", "kept")):
            for q in read_records(getattr(shard, name), QueryRecord, missing_ok=True):
                out[f"{q.method}/{q.query_lang}"][column] += 1
    return out


def measure(cfg: RunConfig, run: RunDir, load_seconds: float) -> dict[str, Any]:
    """What the pilot measured (see module doc)."""
    from synthir.funnel import compute_funnel
    from synthir.stages import REPORTED
    from synthir.stages.base import read_marker

    funnel = compute_funnel(cfg, run)
    passages = int(funnel["sample"].get("sampled", 0))
    samples: Counter = Counter()
    stages: dict[str, dict[str, Any]] = {}
    seconds: Counter = Counter()
    for stage in REPORTED:
        places = run.shard_dirs() if stage.scope == "shard" else [None]
        for m in (read_marker(stage.marker(run, s)) for s in places):
            if m is None:
                continue
            seconds[stage.name] += m.get("seconds", 0.0)
            if stage.name == "generate":
                for method, langs in m.get("requested", {}).items():
                    for lang, n in langs.items():
                        samples[f"{method}/{lang}"] += n
            for group, g in (m.get("by_group") or {}).items():
                acc = stages.setdefault(stage.name, {}).setdefault(group, Counter())
                acc.update({k: v for k, v in g.items() if isinstance(v, (int, float))})
    groups = _group_counts(run)
    keep = {}
    for key in sorted(set(samples) | set(groups)):
        n, c = samples[key], groups[key]
        lo, hi = wilson(c["kept"], n) if n else (0.0, 0.0)
        keep[key] = {"samples": n, "parsed": c["parsed"], "filtered": c["filtered"],
                     "roundtrip_kept": c["roundtrip_kept"], "kept": c["kept"],
                     "keep_rate": round(c["kept"] / n, 4) if n else None, "interval": [round(lo, 4), round(hi, 4)]}
    per_call: dict[str, dict[str, Any]] = {}
    llm_seconds = 0.0
    for stage, by in stages.items():
        for group, g in by.items():
            sent = g["calls"] - g.get("cached_calls", 0)
            spc = g.get("seconds", 0.0) / sent if sent else None
            per_call[f"{stage}:{group}"] = {
                "stage": stage, "group": group, "calls": int(g["calls"]), "sent": int(sent),
                "calls_per_passage": round(g["calls"] / passages, 4) if passages else None,
                "prompt_tokens_per_call": round(g.get("prompt_tokens", 0) / g["calls"], 2) if g["calls"] else 0,
                "completion_tokens_per_call": round(g.get("completion_tokens", 0) / g["calls"], 2) if g["calls"] else 0,
                "seconds_per_call": None if spc is None else round(spc, 4)}
            if spc is not None:  # calls the cache answered in the pilot take this long in a real run
                llm_seconds += g.get("cached_calls", 0) * spc
    fixed = round(load_seconds + sum(seconds[s] for s in FIXED), 3)
    scaled = sum(v for k, v in seconds.items() if k not in FIXED) + llm_seconds
    uncached = all(v["sent"] for v in per_call.values())
    eligible = (read_marker(run.marker("ingest")) or {}).get("sample", {}).get("eligible", {})
    return {"passages": passages, "keep": keep, "per_call": per_call, "stage_seconds": dict(seconds),
            "load_seconds": load_seconds, "fixed_seconds": fixed,
            "seconds_per_passage": round(scaled / passages, 4) if passages else None,
            "timed_from_cache": not uncached, "eligible_passages": int(sum(eligible.values()))}


def _need(cfg: RunConfig, m: dict[str, Any]) -> dict[str, float]:
    """Passages needed at the keep rate's estimate, low and high ends ({estimate, low, high};
    low: the passages at the upper end of the rate)."""
    target = cfg.target.kept_pairs
    n_pass = m["passages"]
    by_lang: dict[str, Counter] = defaultdict(Counter)
    for key, g in m["keep"].items():
        lang = key.rsplit("/", 1)[1]
        by_lang[lang]["samples"] += g["samples"]
        by_lang[lang]["kept"] += g["kept"]
    wants = target.items() if isinstance(target, dict) else [("total", int(target or 0))]
    out = {"estimate": 0.0, "low": 0.0, "high": 0.0}
    for lang, want in wants:
        c = Counter()
        for lg, v in by_lang.items():
            if lang in ("total", lg):
                c.update(v)
        if not c["samples"]:
            raise ConfigError(f"the pilot requested no query in {lang}: nothing to plan from")
        per_passage = c["samples"] / n_pass
        lo, hi = wilson(c["kept"], c["samples"])
        p = c["kept"] / c["samples"]
        for key, rate in (("estimate", p), ("low", hi), ("high", lo)):
            out[key] = max(out[key], want / (rate * per_passage) if rate > 0 else math.inf)
    return out


def predict(cfg: RunConfig, m: dict[str, Any]) -> dict[str, Any]:
    """Calls, tokens, hours and cost to reach the target (see module doc)."""
    need = _need(cfg, m)
    from synthir.stages.judge import judge_llm

    def price(stage: str) -> LLMConfig:
        return judge_llm(cfg) if stage == "judge" else cfg.llm

    out: dict[str, Any] = {"passages": {k: _round(v) for k, v in need.items()}}
    calls: dict[str, dict[str, float]] = defaultdict(lambda: {"estimate": 0.0, "low": 0.0, "high": 0.0})
    totals = {k: {"estimate": 0.0, "low": 0.0, "high": 0.0} for k in ("prompt_tokens", "completion_tokens", "cost")}
    priced = False
    for g in m["per_call"].values():
        pr = price(g["stage"]).price
        priced = priced or bool(pr.input_per_mtok or pr.output_per_mtok)
        for end, passages in need.items():
            n = passages * (g["calls_per_passage"] or 0)
            calls[g["stage"]][end] += n
            tp, tc = n * g["prompt_tokens_per_call"], n * g["completion_tokens_per_call"]
            totals["prompt_tokens"][end] += tp
            totals["completion_tokens"][end] += tc
            totals["cost"][end] += tp / 1e6 * pr.input_per_mtok + tc / 1e6 * pr.output_per_mtok
    out["calls"] = {stage: {k: _round(v) for k, v in c.items()} for stage, c in calls.items()}
    out["prompt_tokens"] = {k: _round(v) for k, v in totals["prompt_tokens"].items()}
    out["completion_tokens"] = {k: _round(v) for k, v in totals["completion_tokens"].items()}
    out["cost"] = {k: _round(v, 4) for k, v in totals["cost"].items()} if priced else None
    spp = m["seconds_per_passage"] or 0.0
    out["hours"] = {k: _round((m["fixed_seconds"] + v * spp) / 3600, 4) for k, v in need.items()}
    out["corpus_enough"] = need["estimate"] <= m["eligible_passages"]
    return out


def _round(v: float, digits: int = 1) -> float | None:
    return None if math.isinf(v) else round(v, digits)


def plan(cfg: RunConfig, pilot: int, out: Path | None = None, progress: bool = True) -> dict[str, Any]:
    """Run the pilot (or reuse it) and write `plan.json` in its dir; return the plan."""
    from synthir.pipeline import run

    if cfg.target.kept_pairs is None:
        raise ConfigError("synthir plan needs target.kept_pairs (e.g. --set target.kept_pairs=500, or "
                          "{en: 300, fr: 200} per language)")
    if pilot < 1:
        raise ConfigError("--pilot must be at least 1 passage")
    out = Path(out) if out else Path(cfg.output.dir) / ".synthir" / "plan"
    pcfg = pilot_config(cfg, pilot, out)
    load = _preload(pcfg)
    result = run(pcfg, progress=progress)
    m = measure(pcfg, RunDir(out), load)
    doc = {"config": cfg.name, "target": cfg.target.kept_pairs, "pilot": {
        "dir": str(out), "passages_asked": pilot, "passages": m["passages"],
        "seconds": round(load + sum(m["stage_seconds"].values()), 1),  # as measured when its stages ran
        "rows": result["rows"]}, "measured": m, "prediction": predict(cfg, m),
        "price": {"llm": cfg.llm.price.model_dump(), "judge": (cfg.judge.llm.price.model_dump()
                                                                if cfg.judge.llm else None)},
        "method": "Wilson 95% interval of the keep rate per requested sample; calls and tokens per passage "
                  "and seconds per call as measured (means)"}
    write_json_atomic(out / "plan.json", doc)
    return doc


def plan_text(doc: dict[str, Any]) -> str:
    """The plan as a few lines for the terminal."""
    m, p = doc["measured"], doc["prediction"]

    def rng(v: dict[str, Any], fmt: str = "{:,.0f}") -> str:
        f = lambda x: "unbounded" if x is None else fmt.format(x)
        return f"{f(v['estimate'])} ({f(v['low'])} - {f(v['high'])})"

    lines = [f"synthir plan: pilot of {m['passages']} passages in {doc['pilot']['dir']} ({doc['pilot']['seconds']} s)"]
    for key, g in m["keep"].items():
        lines.append(f"  {key}: {g['samples']} requested -> {g['parsed']} parsed -> {g['filtered']} filtered -> "
                     f"{g['roundtrip_kept']} round-trip kept -> {g['kept']} kept (rate {g['keep_rate']}, "
                     f"95% {g['interval'][0]}-{g['interval'][1]})")
    for key, g in m["per_call"].items():
        s = "n/a (all from cache)" if g["seconds_per_call"] is None else f"{g['seconds_per_call']} s"
        lines.append(f"  per call {key}: {g['calls_per_passage']} calls/passage, {g['prompt_tokens_per_call']} prompt + "
                     f"{g['completion_tokens_per_call']} completion tokens, {s}")
    lines.append(f"  fixed {m['fixed_seconds']} s (model load {m['load_seconds']} s), then "
                 f"{m['seconds_per_passage']} s per passage"
                 + (" (the pilot was partly served from the response cache)" if m["timed_from_cache"] else ""))
    lines.append(f"  to reach {doc['target']} kept pairs (estimate, 95% interval):")
    lines.append(f"    passages  {rng(p['passages'])}" + ("" if p["corpus_enough"] else
                 f"  -- more than the corpus's {m['eligible_passages']} eligible passages"))
    for stage, c in p["calls"].items():
        lines.append(f"    calls     {stage}: {rng(c)}")
    lines.append(f"    tokens    prompt {rng(p['prompt_tokens'])}, completion {rng(p['completion_tokens'])}")
    lines.append(f"    hours     {rng(p['hours'], '{:.3f}')}")
    lines.append(f"    cost      {rng(p['cost'], '{:.4f}')}" if p["cost"] else
                 "    cost      set llm.price.input_per_mtok / output_per_mtok to get one")
    lines.append(f"  plan written to {Path(doc['pilot']['dir']) / 'plan.json'}")
    return "\n".join(lines)
