"""Helpers shared by the stage modules: progress bars, the worker name, the LLM behind the
response cache, and `run_plan` (send prompts, parse every sample) used by the LLM stages."""

from __future__ import annotations

import os
import socket
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

from tqdm.auto import tqdm

from data_schemas.config import LLMConfig, RunConfig
from data_schemas.records import Passage, Rejected
from synthir.budget import BudgetExhausted, Metered, active_ledger
from synthir.cachedir import cache_root
from synthir.generators.common import PromptItem
from synthir.llm.cache import CachedLLM
from synthir.llm.registry import get_llm, model_identity
from synthir.rundir import read_records


def bar(total: int | None, desc: str, unit: str, progress: bool) -> tqdm:
    """A tqdm bar, disabled unless `progress`."""
    return tqdm(total=total, desc=desc, unit=unit, disable=not progress, leave=True, dynamic_ncols=True)


def worker() -> str:
    """host:pid of this process (recorded per shard: which worker of a cluster ran it)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def make_llm(cfg: RunConfig, llm_cfg: LLMConfig | None = None) -> Any:
    """The backend of `llm_cfg` (default: the run's `llm`; shared per process), behind the
    response cache if enabled; with the cache, the model is loaded only on the first prompt
    that is not cached. While a runner holds the run's budget ledger (synthir.budget), the
    calls that reach the backend are metered and refused once the budget is spent."""
    llm_cfg = llm_cfg or cfg.llm
    led = active_ledger(cfg)

    def build() -> Any:
        inner = get_llm(llm_cfg)
        return Metered(inner, led, llm_cfg.price) if led is not None else inner

    if not llm_cfg.cache:
        return build()
    return CachedLLM(build, cache_root() / "responses.sqlite",
                     backend=llm_cfg.backend, model_id=model_identity(llm_cfg))


def count_call(tokens: Counter, group: dict[str, float], g: Any) -> None:
    """Count one generation: `tokens` {calls, cached_calls, prompt, completion (sent calls only:
    what was paid), cached_prompt, cached_completion (what the cache saved)}; `group` the same
    per method/language with every call's tokens (the planner's tokens per call)."""
    tokens["calls"] += 1
    group["calls"] = group.get("calls", 0) + 1
    group["prompt_tokens"] = group.get("prompt_tokens", 0) + g.prompt_tokens
    group["completion_tokens"] = group.get("completion_tokens", 0) + g.completion_tokens
    if g.cached:
        tokens["cached_calls"] += 1
        tokens["cached_prompt"] += g.prompt_tokens
        tokens["cached_completion"] += g.completion_tokens
        group["cached_calls"] = group.get("cached_calls", 0) + 1
    else:
        tokens["prompt"] += g.prompt_tokens
        tokens["completion"] += g.completion_tokens


def send(llm: Any, prompts: list[str], params: Any, stopped: bool) -> tuple[list[Any] | None, bool]:
    """llm.generate(prompts) -> (generations, budget stopped). Once the budget is spent
    (BudgetExhausted), prompts go one at a time: cached ones are still served free, the others
    come back as None entries (not sent, not counted)."""
    if not stopped:
        try:
            return llm.generate(prompts, params), False
        except BudgetExhausted:
            pass
    out: list[Any] = []
    for p in prompts:
        try:
            out += llm.generate([p], params)
        except BudgetExhausted:
            out += [None] * params.n
    return out, True


def positive_passages(run: Any, shard: Any, records: list[Any]) -> dict[str, Passage]:
    """{id: Passage}: the shard's sampled passages, plus from the corpus every positive of
    `records` (QueryRecords) that is not one of them (a positive the judge promoted, extra
    positives it added)."""
    out = {p.id: p for p in read_records(shard.passages, Passage)}
    wanted = {r.passage_id for r in records} | {x for r in records for x in r.extra_positives}
    out.update(run.store.passages(wanted - set(out)))
    return out


def send_order(items: list[PromptItem]) -> list[int]:
    """Indexes of `items` in the order they are sent: grouped by (method, language), so prompts
    that share a few-shot prefix go back to back and llama.cpp / vLLM reuse its KV cache (1.5x
    on the embedded model). Stable: the plan's order within a group."""
    return sorted(range(len(items)), key=lambda k: (items[k].method, items[k].lang))


def batches(gen: Any, items: list[PromptItem], order: list[int],
            batch: int) -> Iterator[tuple[list[int], Any]]:
    """(item indexes, SamplingParams) of each `generate` call: `batch` prompts of `order` at a
    time with the generator's params; a generator with per-prompt params
    (`per_prompt_params`: the copy penalty) sends each prompt on its own."""
    if not getattr(gen, "per_prompt_params", False):
        params = gen.sampling_params()
        for i in range(0, len(order), batch):
            yield order[i:i + batch], params
        return
    for k in order:
        yield [k], gen.sampling_params(items[k])


def run_plan(llm: Any, plan: list[tuple[Any, list[PromptItem]]], langid: Any, ok_type: type,
             batch: int, progress_bar: tqdm | None = None) -> tuple[list[Any], list[Rejected], dict[str, Any]]:
    """Send every (generator, prompts) of `plan` through `llm` in batches and parse each
    sample with the generator's parser. Returns (records, rejected, stats) where stats has
    prompts, requested {method: {lang: samples}}, parsed, rejected, llm_errors, complete
    (no failed call and no budget stop: else the stage is redone on the next run, its
    successful calls coming back from the response cache), tokens (+ `cache_repaired`: bad
    cache entries dropped and re-requested, when any), by_group {method/lang: calls,
    cached_calls, prompt_tokens, completion_tokens, seconds (of sent calls)} and, when the
    budget ran out (synthir.budget), budget_stopped with the prompts not sent (they are
    neither requested nor rejected: the next run asks them)."""
    repaired_before = getattr(llm, "repaired", 0)
    records: list[Any] = []
    rejected: list[Rejected] = []
    tokens: Counter = Counter()
    requested: dict[str, dict[str, int]] = {}
    by_group: dict[str, dict[str, float]] = {}
    stopped, not_sent, prompts = False, 0, 0
    for gen, items in plan:
        results: dict[int, list[Any]] = {}
        order = send_order(items)
        for idx, params in batches(gen, items, order, batch):
            chunk = [items[k] for k in idx]
            t0 = time.time()
            gens, stopped = send(llm, [it.text for it in chunk], params, stopped)
            sent = [g for g in gens if g is not None and not g.cached]
            per_call = (time.time() - t0) / len(sent) if sent else 0.0
            for j, g in enumerate(gens):
                item, sample = chunk[j // params.n], j % params.n
                if g is None:
                    not_sent += 1
                    continue
                requested.setdefault(item.method, {}).setdefault(item.lang, 0)
                requested[item.method][item.lang] += 1
                group = by_group.setdefault(f"{item.method}/{item.lang}", {})
                count_call(tokens, group, g)
                if not g.cached:
                    group["seconds"] = round(group.get("seconds", 0.0) + per_call, 4)
                res = gen.parse(item, g, llm.backend, llm.model_id, langid=langid, sample=sample)
                results.setdefault(idx[j // params.n], []).append(res)
            if progress_bar is not None:
                progress_bar.update(len(chunk))
        prompts += len(results)
        for k in range(len(items)):  # records keep the plan's order, whatever the send order
            for res in results.get(k, []):
                (records if isinstance(res, ok_type) else rejected).append(res)
    errors = sum(1 for r in rejected if r.reason == "llm_error")
    if getattr(llm, "repaired", 0) > repaired_before:
        tokens["cache_repaired"] = getattr(llm, "repaired", 0) - repaired_before
    stats = {"prompts": prompts, "requested": requested,
             "parsed": len(records), "rejected": len(rejected), "llm_errors": errors,
             "complete": errors == 0 and not stopped, "by_group": by_group,
             "tokens": {"prompt": 0, "completion": 0, "cached_calls": 0, "calls": 0, **tokens}}
    if stopped:
        stats["budget_stopped"] = {"not_sent": not_sent}
    return records, rejected, stats


def add_llm_stats(total: dict[str, Any], st: dict[str, Any]) -> Counter:
    """Add one run_plan's `tokens` and `requested` to a run-scope stage's running `total`
    (bootstrap, probe: several plans in one stage); return this plan's samples per language."""
    total["tokens"] = dict(Counter(total["tokens"]) + Counter(st["tokens"]))
    asked: Counter = Counter()
    for name, langs in st["requested"].items():
        for lang, n in langs.items():
            total["requested"].setdefault(name, {}).setdefault(lang, 0)
            total["requested"][name][lang] += n
            asked[lang] += n
    return asked
