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

from prefect import flow

from data_schemas.config import RunConfig
from flows import redact_logs
from flows.generate import push_task, run_task
from synthir.cli import add_publish_args, publish_sets, report
from synthir.lock import output_lock
from synthir.publish.release import check_same_run, republish_config


@flow(name="synthir-publish", log_prints=True)
def publish_flow(cfg: RunConfig) -> dict[str, Any]:
    """Re-publish the run dir `cfg.output.dir` (a config from `republish_config`); push when
    a repo id is configured. Holds the output dir's lock throughout (synthir.lock), and
    checks again under it that the dir holds the same run."""
    with output_lock(cfg.output.dir):
        check_same_run(cfg)
        result = run_task(cfg, "publish")
        result["hub"] = push_task(cfg) if cfg.output.hub.repo_id else None
    return result


def main(argv: list[str] | None = None) -> int:
    """CLI of the flow: same arguments as `synthir publish`."""
    args = add_publish_args(argparse.ArgumentParser(prog="python -m flows.publish")).parse_args(argv)
    redact_logs()
    # The config is checked before the flow starts: a refused override starts no flow run.
    return report(lambda: publish_flow(republish_config(Path(args.run_dir), publish_sets(args))),
                  args.allow_empty)


if __name__ == "__main__":
    sys.exit(main())
