"""Scheduled runs of the main flow: `flow.serve` against a real Prefect server.

    prefect server start                                # in another terminal
    export PREFECT_API_URL=http://127.0.0.1:4200/api
    python -m flows.serve CONFIG.yaml [--set dotted.key=value ...] [--out DIR] [--name NAME]

Input: a run config with `orchestration.schedule.cron` (in `schedule.timezone`) or
`orchestration.schedule.interval_seconds`. The config is validated once at start-up; each
scheduled run then re-reads the YAML (with the same --set/--out), so edits take effect at the
next run. Output: one `synthir-scheduled` flow run per due time, each running the
`synthir-generate` flow as a subflow; the process serves until Ctrl-C (which pauses the
schedule). Runs never overlap: a run that is due while another is going waits for it.

`output.dir` may hold `{date}` (2025-01-31) or `{datetime}` (2025-01-31T02-00-00), taken
from the run's scheduled start time in the schedule's timezone: every run writes a fresh
dataset. Without a placeholder every run resumes the same run dir (finished shards are
skipped) and re-publishes it; a config edit that changes what is generated is then refused
(fingerprint mismatch) until output.dir changes.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from prefect import flow  # flows/__init__.py has set the Prefect env defaults already
from prefect.runtime import flow_run
from prefect.schedules import Cron, Interval, Schedule
from prefect.types.entrypoint import EntrypointType

from data_schemas.config import RunConfig
from synthir.cli import add_job_args
from synthir.config import load_config
from synthir.errors import SynthirError
from synthir.pipeline import prompt_shas
from synthir.report import summary_text

NO_SERVER = ("PREFECT_API_URL is not set: the temporary server that `python -m flows.generate` "
             "starts cannot schedule runs; run `prefect server start` and export "
             "PREFECT_API_URL=http://127.0.0.1:4200/api")


def expand_output_dir(path: str | Path, when: datetime, timezone: str) -> Path:
    """`path` with `{date}` / `{datetime}` replaced by `when` in `timezone` (colon-free)."""
    local = when.astimezone(ZoneInfo(timezone))
    text = str(path).replace("{datetime}", local.strftime("%Y-%m-%dT%H-%M-%S"))
    return Path(text.replace("{date}", local.strftime("%Y-%m-%d")))


def run_config(config_path: str, sets: list[str], out: str | None, when: datetime) -> RunConfig:
    """Load the config (raises ConfigError) with output.dir expanded for a run due at `when`."""
    cfg = load_config(config_path, sets, out)
    cfg.output.dir = expand_output_dir(cfg.output.dir, when, cfg.orchestration.schedule.timezone)
    return cfg


def schedule_of(cfg: RunConfig) -> Schedule:
    """The Prefect schedule for `orchestration.schedule` (ValueError: none set / bad values)."""
    s = cfg.orchestration.schedule
    ZoneInfo(s.timezone)  # unknown zone: ZoneInfoNotFoundError (a KeyError)
    if s.cron:
        return Cron(s.cron, timezone=s.timezone)  # checks the cron string
    if s.interval_seconds:
        return Interval(timedelta(seconds=s.interval_seconds), timezone=s.timezone)
    raise ValueError("nothing to schedule: set orchestration.schedule.cron or "
                     "orchestration.schedule.interval_seconds")


@flow(name="synthir-scheduled", log_prints=True)
def scheduled_generate(config_path: str, sets: list[str] | None = None,
                       out: str | None = None) -> dict[str, Any]:
    """One scheduled run: re-read the config, expand output.dir from the scheduled start
    time, run the `synthir-generate` flow; return its publish result."""
    # Imported here: the runner cloudpickles this function by value into each run's process,
    # and a `run_generate` captured that way loses the module globals its annotations need.
    from flows.generate import run_generate

    cfg = run_config(config_path, list(sets or []), out, flow_run.scheduled_start_time)
    print(f"synthir: output dir {cfg.output.dir}")
    result = run_generate(cfg)
    print(summary_text(result))
    return result


def check_server(api_url: str) -> str | None:
    """None if the Prefect API at `api_url` answers its health check, else why not."""
    import httpx

    try:
        httpx.get(api_url.rstrip("/") + "/health", timeout=10).raise_for_status()
    except httpx.HTTPError as exc:
        return f"Prefect server at {api_url} is not reachable ({exc}); is `prefect server start` running?"
    return None


def main(argv: list[str] | None = None) -> int:
    """CLI: validate, then serve until interrupted (0); config/server problems: one line, 2."""
    from prefect.settings import PREFECT_API_URL

    p = add_job_args(argparse.ArgumentParser(prog="python -m flows.serve"))
    p.add_argument("--name", help="deployment name (default: the config's name)")
    args = p.parse_args(argv)
    config_path = str(Path(args.config).resolve())
    out = os.path.abspath(args.out) if args.out else None
    try:
        cfg = run_config(config_path, args.set, out, datetime.now().astimezone())
        prompt_shas(cfg)  # templates and examples load
        schedule = schedule_of(cfg)
    except (SynthirError, ValueError, KeyError) as exc:
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"synthir: error: {msg}", file=sys.stderr)
        return 2
    api_url = PREFECT_API_URL.value()
    problem = check_server(api_url) if api_url else NO_SERVER
    if problem:
        print(f"synthir: error: {problem}", file=sys.stderr)
        return 2
    scheduled_generate.serve(
        name=args.name or cfg.name, schedule=schedule, limit=1,
        parameters={"config_path": config_path, "sets": list(args.set), "out": out},
        entrypoint_type=EntrypointType.MODULE_PATH)
    return 0


if __name__ == "__main__":
    # Serve the flow of the importable module `flows.serve`, not of `__main__`: the runner
    # re-imports it in each flow run's process.
    from flows.serve import main as _main

    sys.exit(_main())
