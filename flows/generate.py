"""The main job as a Prefect flow: one thin task per stage of `synthir.stages.STAGES` (the same
list the local runner iterates), mapped over shards for per-shard stages (never one task per
item), submitted once for whole-run stages; then a push task when `output.hub.repo_id` is set.

    python -m flows.generate CONFIG.yaml [--set dotted.key=value ...] [--out DIR]

The flow holds the output dir's lock from start to end (synthir.lock): a second run or
publish on the same dir fails at once (exit 2) naming this one's pid. `target.kept_pairs`
repeats the work stages in rounds (synthir.rounds) and `budget.*` meters the LLM calls of the
thread task runner's tasks (synthir.budget), as `synthir run` does. Resume: every stage skips what its done-markers say is finished, so re-running the same config
continues where a crashed run stopped. Runs offline on Prefect's temporary server. The task
runner (thread pool / Dask / Ray), shard-task retries and the worker count come from
`orchestration` in the config (see flows/runners.py); `run_generate(cfg)` applies them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import flows  # noqa: F401  (sets the Prefect environment defaults)
from prefect import flow, get_run_logger, task, unmapped
from prefect.cache_policies import NONE
from prefect.task_runners import ThreadPoolTaskRunner

from data_schemas.config import RunConfig
from flows.runners import make_task_runner
from synthir.cli import add_job_args, report
from synthir.errors import ConfigError, SynthirError
from synthir.lock import output_lock
from synthir.pipeline import check_calls, start, stop_reason
from synthir.publish.release import push
from synthir.rounds import run_metered
from synthir.rundir import RunDir, ShardDir
from synthir.stages import BY_NAME, STAGES, run_stage

LOGGED = ("prompts", "parsed", "in", "kept", "rejected", "llm_errors", "rows", "mined", "seconds")


def _log(what: str, stats: dict[str, Any]) -> dict[str, Any]:
    """Log one finished stage / shard (kept and dropped counts) and pass its stats on."""
    get_run_logger().info("%s: %s", what, ", ".join(f"{k}={stats[k]}" for k in LOGGED
                                                     if isinstance(stats.get(k), (int, float))
                                                     and not isinstance(stats.get(k), bool)))
    return stats


def transient(task: Any, task_run: Any, state: Any) -> bool:
    """Retry condition: a config / input error (SynthirError) fails the same way every time,
    so it is not retried; anything else (a crashed worker, a network fault) is."""
    try:
        state.result()
    except SynthirError:
        return False
    except BaseException:  # noqa: BLE001 - any other failure is worth a retry
        return True
    return True


@task(cache_policy=NONE, task_run_name="{stage}")
def run_task(cfg: RunConfig, stage: str) -> dict[str, Any]:
    """One whole-run stage."""
    stats = run_stage(BY_NAME[stage], cfg, RunDir(Path(cfg.output.dir)), progress=True)
    if stage == "publish":
        get_run_logger().info("publish: %s", ", ".join(f"{k}={v}" for k, v in stats["rows"].items()))
        return stats
    return _log(stage, stats)


@task(cache_policy=NONE, task_run_name="{stage}", retry_condition_fn=transient)  # retries: orchestration.retries
def shard_task(cfg: RunConfig, stage: str, shard: str) -> dict[str, Any]:
    """One per-shard stage on one shard (a model is loaded once per process and reused)."""
    stats = run_stage(BY_NAME[stage], cfg, RunDir(Path(cfg.output.dir)), ShardDir(Path(shard)), progress=True)
    return _log(f"{stage} shard {Path(shard).name}", stats)


@task(cache_policy=NONE, retries=3, retry_delay_seconds=30)
def push_task(cfg: RunConfig) -> dict[str, Any] | None:
    """push_to_hub when output.hub.repo_id is set (retried: the network is a transient fault)."""
    return push(cfg, RunDir(Path(cfg.output.dir)))


# Default: one worker. The LLM and the embedder each use every core already (oversubscription
# on a 2-core box collapses throughput); GPU/remote backends batch inside one task instead.
@flow(name="synthir-generate", task_runner=ThreadPoolTaskRunner(max_workers=1), log_prints=True)
def generate(cfg: RunConfig) -> dict[str, Any]:
    """Every stage of STAGES in order, each waiting for the one before; then push (if
    output.hub.repo_id). Returns the publish result plus "hub"."""
    orch = cfg.orchestration
    retry = {"retries": orch.retries, "retry_delay_seconds": orch.retry_delay_seconds}
    with output_lock(cfg.output.dir):
        run = start(cfg)  # prompts and eval sets checked before any task
        result: dict[str, Any] = {}

        def one_pass() -> None:  # every work stage; target mode runs it once per round
            for stage in STAGES:
                if stage.always:
                    continue
                if stage.scope == "shard":
                    shards = [str(s.base) for s in run.shard_dirs()]
                    shard_task.with_options(**retry).map(unmapped(cfg), unmapped(stage.name), shards).result()
                else:
                    run_task.submit(cfg, stage.name).result()

        budget, rounds = run_metered(cfg, run, one_pass)  # thread tasks share this process: metered
        for stage in STAGES:
            if stage.always:
                result = run_task.submit(cfg, stage.name).result()
        result["stopped"] = stop_reason(budget, rounds)
        check_calls(result, run)
        result["hub"] = push_task.submit(cfg).result() if cfg.output.hub.repo_id else None
    return result


def check_budget_runner(cfg: RunConfig) -> None:
    """ConfigError when `budget.*` is set with dask / ray workers: their LLM calls run in other
    processes, where this process's ledger cannot meter them."""
    budgeted = any(v is not None for v in cfg.budget.model_dump().values())
    if budgeted and cfg.orchestration.task_runner != "thread":
        raise ConfigError(f"budget.* is enforced in this process: use orchestration.task_runner thread (the "
                          f"{cfg.orchestration.task_runner} workers' LLM calls would not be metered), or synthir run")


def run_generate(cfg: RunConfig) -> dict[str, Any]:
    """Run the generate flow with the task runner `cfg.orchestration` asks for."""
    check_budget_runner(cfg)
    return generate.with_options(task_runner=make_task_runner(cfg.orchestration))(cfg)


def main(argv: list[str] | None = None) -> int:
    """CLI of the flow: same arguments and exit codes as `synthir run`."""
    from synthir.config import load_config

    args = add_job_args(argparse.ArgumentParser(prog="python -m flows.generate")).parse_args(argv)
    flows.redact_logs()
    return report(lambda: run_generate(load_config(args.config, args.set, args.out)), args.allow_empty)


if __name__ == "__main__":
    sys.exit(main())
