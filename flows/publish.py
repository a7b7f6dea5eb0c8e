"""Re-publish an existing run dir, and push it to the Hub, as a Prefect flow:

    python -m flows.publish RUN_DIR [--set output.dev_fraction=0.1 ...] [--push REPO_ID]

Only output.* and orchestration.* keys may change (other keys change the data: start a new
run). The push task is retried on failure (network faults are transient); the token comes
from the env var `output.hub.token_env` (HF_TOKEN) and is never logged.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import flows  # noqa: F401  (sets the Prefect environment defaults)
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NONE

from data_schemas.config import RunConfig
from synthir.errors import SynthirError
from synthir.pipeline import summary_text
from synthir.publish.hf import publish
from synthir.publish.release import push, republish_config
from synthir.runpaths import RunPaths


@task(cache_policy=NONE)
def publish_task(cfg: RunConfig) -> dict[str, Any]:
    """Write the dataset layout + card from the run's finished stages."""
    result = publish(cfg, RunPaths(Path(cfg.output.dir)))
    get_run_logger().info("publish: %s", ", ".join(f"{k}={v}" for k, v in result["rows"].items()))
    return result


@task(cache_policy=NONE, retries=3, retry_delay_seconds=30)
def push_task(cfg: RunConfig) -> dict[str, Any] | None:
    """push_to_hub (None when output.hub.repo_id is unset)."""
    return push(cfg, RunPaths(Path(cfg.output.dir)))


@flow(name="synthir-publish", log_prints=True)
def publish_flow(run_dir: str, sets: list[str] | None = None) -> dict[str, Any]:
    """Re-publish `run_dir` with the `sets` overrides; push when a repo id is configured."""
    cfg = republish_config(Path(run_dir), list(sets or []))
    result = publish_task(cfg)
    result["hub"] = push_task(cfg) if cfg.output.hub.repo_id else None
    return result


def main(argv: list[str] | None = None) -> int:
    """CLI of the flow: same arguments as `synthir publish`."""
    p = argparse.ArgumentParser(prog="python -m flows.publish")
    p.add_argument("run_dir")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--push", metavar="REPO_ID")
    args = p.parse_args(argv)
    sets = list(args.set) + ([f"output.hub.repo_id={args.push}"] if args.push else [])
    try:
        result = publish_flow(args.run_dir, sets)
    except SynthirError as exc:
        print(f"synthir: error: {exc}", file=sys.stderr)
        return 2
    print(summary_text(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
