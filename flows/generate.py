"""The main job as a Prefect flow: thin tasks over the core's stage functions, mapped over
shards of passages (never one task per item).

    python -m flows.generate CONFIG.yaml [--set dotted.key=value ...] [--out DIR]

Resume: the stages skip shards whose done-marker exists, so re-running the same config
continues where a crashed run stopped. Runs offline on Prefect's temporary server.
The task runner (thread pool / Dask / Ray), shard-task retries and the worker count come from
`orchestration` in the config (see flows/runners.py); `run_generate(cfg)` applies them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import flows  # noqa: F401  (sets the Prefect environment defaults)
from prefect import flow, get_run_logger, task, unmapped
from prefect.cache_policies import NONE
from prefect.task_runners import ThreadPoolTaskRunner

from data_schemas.config import RunConfig
from flows.runners import make_task_runner
from synthir import stages
from synthir.errors import SynthirError
from synthir.pipeline import start, summary_text
from synthir.publish.hf import publish
from synthir.publish.release import push
from synthir.runpaths import RunPaths
from synthir.stages_filter import filter_stage, mine_shard, verify_shard


def _log(stage: str, stats: dict[str, Any]) -> dict[str, Any]:
    """Log one finished stage / shard (kept and dropped counts) and pass its stats on."""
    keys = ("prompts", "parsed", "in", "kept", "rejected", "llm_errors", "rows", "mined", "seconds")
    get_run_logger().info("%s: %s", stage, ", ".join(f"{k}={stats[k]}" for k in keys
                                                      if isinstance(stats.get(k), (int, float))))
    return stats


@task(cache_policy=NONE)
def ingest_task(cfg: RunConfig) -> list[str]:
    """Check prompts, create/resume the run dir, ingest + sample; return shard dirs."""
    paths = start(cfg)
    stats = stages.ingest_and_sample(cfg, paths, progress=True)
    shards = [str(p) for p in paths.shard_dirs()]
    get_run_logger().info("ingest: %s passages sampled into %d shards", stats["sample"]["sampled"], len(shards))
    return shards


@task(cache_policy=NONE)  # retries: orchestration.retries (set in generate)
def generate_task(cfg: RunConfig, shard: str) -> dict[str, Any]:
    """Generate + parse one shard (the model is loaded once per process and reused)."""
    stats = stages.generate_shard(cfg, RunPaths(Path(cfg.output.dir)), Path(shard), progress=True)
    return _log(f"generate shard {Path(shard).name}", stats)


@task(cache_policy=NONE)
def filter_task(cfg: RunConfig) -> dict[str, Any]:
    """Cheap filters over every shard's queries (duplicates are found across the run)."""
    return _log("filter", filter_stage(cfg, RunPaths(Path(cfg.output.dir))))


@task(cache_policy=NONE)
def index_task(cfg: RunConfig) -> dict[str, Any]:
    """Embed the whole corpus (cached) for the round trip."""
    return _log("index", stages.index_corpus(cfg, RunPaths(Path(cfg.output.dir)), progress=True))


@task(cache_policy=NONE)  # retries: orchestration.retries (set in generate)
def roundtrip_task(cfg: RunConfig, shard: str) -> dict[str, Any]:
    """Round-trip filter one shard over the full corpus index."""
    return _log(f"round trip shard {Path(shard).name}",
                stages.roundtrip_shard(cfg, RunPaths(Path(cfg.output.dir)), Path(shard)))


@task(cache_policy=NONE)  # retries: orchestration.retries (set in generate)
def documents_task(cfg: RunConfig, shard: str) -> dict[str, Any]:
    """Graded / negative / HyDE documents for one shard's kept queries."""
    return _log(f"documents shard {Path(shard).name}",
                stages.documents_shard(cfg, RunPaths(Path(cfg.output.dir)), Path(shard), progress=True))


@task(cache_policy=NONE)  # retries: orchestration.retries (set in generate)
def verify_mine_task(cfg: RunConfig, shard: str) -> dict[str, Any]:
    """Verify the shard's generated documents, then mine hard negatives for its kept pairs."""
    paths = RunPaths(Path(cfg.output.dir))
    name = Path(shard).name
    return {"verify": _log(f"verify shard {name}", verify_shard(cfg, paths, Path(shard))),
            "mine": _log(f"mine shard {name}", mine_shard(cfg, paths, Path(shard)))}


@task(cache_policy=NONE)
def publish_task(cfg: RunConfig) -> dict[str, Any]:
    """Write the HF dataset layout + card."""
    result = publish(cfg, RunPaths(Path(cfg.output.dir)))
    get_run_logger().info("publish: %s", ", ".join(f"{k}={v}" for k, v in result["rows"].items()))
    return result


@task(cache_policy=NONE, retries=3, retry_delay_seconds=30)
def push_task(cfg: RunConfig) -> dict[str, Any] | None:
    """push_to_hub when output.hub.repo_id is set (retried: the network is a transient fault)."""
    return push(cfg, RunPaths(Path(cfg.output.dir)))


# Default: one worker. The LLM and the embedder each use every core already (oversubscription
# on a 2-core box collapses throughput); GPU/remote backends batch inside one task instead.
@flow(name="synthir-generate", task_runner=ThreadPoolTaskRunner(max_workers=1), log_prints=True)
def generate(cfg: RunConfig) -> dict[str, Any]:
    """ingest -> generate (per shard) -> filter -> index -> round trip (per shard) ->
    documents -> verify + mine (per shard) -> publish -> push (if output.hub.repo_id)."""
    orch = cfg.orchestration
    retry = {"retries": orch.retries, "retry_delay_seconds": orch.retry_delay_seconds}
    shards = ingest_task(cfg)
    gen = generate_task.with_options(**retry).map(unmapped(cfg), shards)
    flt = filter_task.submit(cfg, wait_for=[gen])
    idx = index_task.submit(cfg, wait_for=[flt])
    rt = roundtrip_task.with_options(**retry).map(unmapped(cfg), shards, wait_for=[idx])
    docs = documents_task.with_options(**retry).map(unmapped(cfg), shards, wait_for=[rt])
    checked = verify_mine_task.with_options(**retry).map(unmapped(cfg), shards, wait_for=[docs])
    result = publish_task.submit(cfg, wait_for=[checked]).result()
    result["hub"] = push_task.submit(cfg).result() if cfg.output.hub.repo_id else None
    return result


def run_generate(cfg: RunConfig) -> dict[str, Any]:
    """Run the generate flow with the task runner `cfg.orchestration` asks for."""
    return generate.with_options(task_runner=make_task_runner(cfg.orchestration))(cfg)


def main(argv: list[str] | None = None) -> int:
    """CLI of the flow: same arguments as `synthir run`."""
    from synthir.config import load_config

    p = argparse.ArgumentParser(prog="python -m flows.generate")
    p.add_argument("config")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--out")
    args = p.parse_args(argv)
    return report(lambda: run_generate(load_config(args.config, args.set, args.out)))


def report(job: Callable[[], dict[str, Any]]) -> int:
    """Run `job`, print its summary and return 0; on a config / input error print one line
    and return 2 (as the `synthir` CLI)."""
    try:
        result = job()
    except SynthirError as exc:
        print(f"synthir: error: {exc}", file=sys.stderr)
        return 2
    print(summary_text(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
