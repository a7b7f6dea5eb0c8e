"""Helpers shared by the stage modules: progress bars, the worker name, the LLM behind the
response cache, and `run_plan` (send prompts, parse every sample) used by the LLM stages."""

from __future__ import annotations

import os
import socket
from collections import Counter
from typing import Any

from tqdm.auto import tqdm

from data_schemas.config import RunConfig
from data_schemas.records import Rejected
from synthir.cachedir import cache_root
from synthir.generators.common import PromptItem
from synthir.llm.cache import CachedLLM
from synthir.llm.registry import get_llm, model_identity


def bar(total: int | None, desc: str, unit: str, progress: bool) -> tqdm:
    """A tqdm bar, disabled unless `progress`."""
    return tqdm(total=total, desc=desc, unit=unit, disable=not progress, leave=True, dynamic_ncols=True)


def worker() -> str:
    """host:pid of this process (recorded per shard: which worker of a cluster ran it)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def make_llm(cfg: RunConfig) -> Any:
    """The configured backend (shared per process), behind the response cache if enabled; with
    the cache, the model is loaded only on the first prompt that is not cached."""
    if not cfg.llm.cache:
        return get_llm(cfg.llm)
    return CachedLLM(lambda: get_llm(cfg.llm), cache_root() / "responses.sqlite",
                     backend=cfg.llm.backend, model_id=model_identity(cfg.llm))


def send_order(items: list[PromptItem]) -> list[int]:
    """Indexes of `items` in the order they are sent: grouped by (method, language), so prompts
    that share a few-shot prefix go back to back and llama.cpp / vLLM reuse its KV cache (1.5x
    on the embedded model). Stable: the plan's order within a group."""
    return sorted(range(len(items)), key=lambda k: (items[k].method, items[k].lang))


def run_plan(llm: Any, plan: list[tuple[Any, list[PromptItem]]], langid: Any, ok_type: type,
             batch: int, progress_bar: tqdm | None = None) -> tuple[list[Any], list[Rejected], dict[str, Any]]:
    """Send every (generator, prompts) of `plan` through `llm` in batches and parse each
    sample with the generator's parser. Returns (records, rejected, stats) where stats has
    prompts, requested {method: {lang: samples}}, parsed, rejected, llm_errors, complete
    (no failed call: else the stage is redone on the next run, its successful calls coming
    back from the response cache) and tokens (+ `cache_repaired`: bad cache entries dropped
    and re-requested, when any)."""
    repaired_before = getattr(llm, "repaired", 0)
    records: list[Any] = []
    rejected: list[Rejected] = []
    tokens: Counter = Counter()
    requested: dict[str, dict[str, int]] = {}
    for gen, items in plan:
        params = gen.sampling_params()
        for it in items:
            requested.setdefault(it.method, {}).setdefault(it.lang, 0)
            requested[it.method][it.lang] += params.n
        results: dict[int, list[Any]] = {}
        order = send_order(items)
        for i in range(0, len(order), batch):
            idx = order[i:i + batch]
            chunk = [items[k] for k in idx]
            for j, g in enumerate(llm.generate([it.text for it in chunk], params)):
                item, sample = chunk[j // params.n], j % params.n
                tokens["calls"] += 1
                if g.cached:
                    tokens["cached_calls"] += 1
                else:
                    tokens["prompt"] += g.prompt_tokens
                    tokens["completion"] += g.completion_tokens
                res = gen.parse(item, g, llm.backend, llm.model_id, langid=langid, sample=sample)
                results.setdefault(idx[j // params.n], []).append(res)
            if progress_bar is not None:
                progress_bar.update(len(chunk))
        for k in range(len(items)):  # records keep the plan's order, whatever the send order
            for res in results.get(k, []):
                (records if isinstance(res, ok_type) else rejected).append(res)
    errors = sum(1 for r in rejected if r.reason == "llm_error")
    if getattr(llm, "repaired", 0) > repaired_before:
        tokens["cache_repaired"] = getattr(llm, "repaired", 0) - repaired_before
    stats = {"prompts": sum(len(items) for _, items in plan), "requested": requested,
             "parsed": len(records), "rejected": len(rejected), "llm_errors": errors,
             "complete": errors == 0,
             "tokens": {"prompt": 0, "completion": 0, "cached_calls": 0, "calls": 0, **tokens}}
    return records, rejected, stats
