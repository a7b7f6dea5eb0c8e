"""The main job as plain Python (no orchestrator): the local runner and the end summary.

`run(cfg)` = ingest_and_sample -> generate_shard (each shard) -> filter_stage -> index_corpus ->
roundtrip_shard (each shard) -> documents_shard, verify_shard, mine_shard (each shard) -> publish. Finished stages are skipped on a re-run of the same
config (resume). `flows/generate.py` runs the same stage functions as Prefect tasks.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from data_schemas.config import RunConfig
from synthir.filters.contamination import eval_set
from synthir.generators import prompt_files
from synthir.publish.release import release
from synthir.runpaths import RunPaths, prepare_run
from synthir.stages_filter import filter_stage, mine_shard, verify_shard
from synthir.stages import (documents_shard, generate_shard, index_corpus, ingest_and_sample,
                            make_llm, roundtrip_shard)

log = logging.getLogger(__name__)


def prompt_shas(cfg: RunConfig) -> dict[str, str]:
    """sha256 of every prompt template and example file the run uses (loads and checks them)."""
    return prompt_files(cfg)


def start(cfg: RunConfig) -> RunPaths:
    """Check the prompts and the contamination guard's eval sets (fail before any LLM call),
    then create (or resume) the run dir."""
    eval_set(cfg.contamination)
    return prepare_run(cfg, prompt_shas(cfg))


def run(cfg: RunConfig, progress: bool = True) -> dict[str, Any]:
    """Run the whole job in this process; return the publish result plus total seconds."""
    t0 = time.time()
    paths = start(cfg)
    ingest_and_sample(cfg, paths, progress=progress)
    shards = paths.shard_dirs()
    llm = make_llm(cfg)
    for shard in shards:
        generate_shard(cfg, paths, shard, llm=llm, progress=progress)
    return finish(cfg, paths, t0, llm=llm, progress=progress)


def finish(cfg: RunConfig, paths: RunPaths, t0: float, llm: Any = None,
           progress: bool = True) -> dict[str, Any]:
    """Every stage after the queries exist (shared by `run` and `synthir filter`): filter ->
    index -> round trip -> documents, verify, mine -> publish. The LLM is built only if a
    document stage has prompts. Returns the publish result plus seconds since `t0`."""
    shards = paths.shard_dirs()
    filter_stage(cfg, paths)
    index_corpus(cfg, paths, progress=progress)
    for shard in shards:
        roundtrip_shard(cfg, paths, shard)
    for shard in shards:
        documents_shard(cfg, paths, shard, llm=llm, progress=progress)
        verify_shard(cfg, paths, shard)
        mine_shard(cfg, paths, shard)
    result = release(cfg, paths)
    result["seconds"] = round(time.time() - t0, 1)
    return result


def summary_text(result: dict[str, Any]) -> str:
    """A one-screen summary of a finished run."""
    f = result["funnel"]
    lines = [
        f"synthir: dataset written to {result['dir']}",
        f"  corpus   {f['ingest']['read']} rows read, {f['ingest']['kept']} kept"
        + "".join(f", {k}={v}" for k, v in sorted(f["dropped"].get("ingest", {}).items())),
        f"  sampled  {f['sample']['sampled']} passages "
        + " ".join(f"{k}={v}" for k, v in sorted(f["sample"]["sampled_by_lang"].items())),
        "  lang   prompts  generated  parsed  filtered  kept",
    ]
    for lang, c in sorted(f["by_language"].items()):
        lines.append(f"  {lang:<6} {c['prompts']:>7}  {c['generated']:>9}  {c['parsed']:>6}  "
                     f"{c['filtered']:>8}  {c['roundtrip_kept']:>4}")
    for m, c in sorted(f.get("by_method", {}).items()):
        lines.append(f"  method {m}: {c['prompts']} requested, {c['parsed']} parsed, "
                     f"{c['roundtrip_kept']} kept")
    for m, c in sorted(f.get("documents", {}).items()):
        lines.append(f"  documents {m}: {c['prompts']} requested, {c['parsed']} parsed, "
                     f"{c['verified']} verified")
    if f.get("contamination"):
        c = f["contamination"]
        lines.append(f"  eval contamination: dropped {c['queries_dropped']} queries, "
                     f"{c['documents_dropped']} documents")
    if f.get("mining", {}).get("mined") is not None:
        lines.append(f"  mined    {f['mining']['mined']} hard negatives for {f['mining'].get('queries', 0)} pairs")
    for stage in ("generate", "parse", "filter", "roundtrip", "documents", "verify", "mine"):
        reasons = f["dropped"].get(stage)
        if reasons:
            lines.append(f"  dropped at {stage}: " + ", ".join(f"{k}={v}" for k, v in sorted(reasons.items())))
    t = f["tokens"]
    lines.append(f"  tokens   {t.get('prompt', 0)} prompt + {t.get('completion', 0)} completion, "
                 f"{t.get('cached_calls', 0)}/{t.get('calls', 0)} calls from cache")
    lines.append("  configs  " + ", ".join(f"{k}={v}" for k, v in result["rows"].items()))
    if "seconds" in result:
        lines.append(f"  time     {result['seconds']} s")
    lines.append(f'  load     datasets.load_dataset("{result["dir"]}", "pairs")')
    if result.get("hub"):
        lines.append(f"  pushed   {result['hub']['repo_url']} ({result['hub']['added']} files, "
                     f"{result['hub']['deleted']} stale removed)")
    return "\n".join(lines)
