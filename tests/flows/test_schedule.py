"""Scheduled runs: `python -m flows.serve` against a real `prefect server start`, both as
subprocesses, with an interval schedule of a few seconds and a tiny corpus; plus the CLI's
one-line errors (no subprocess)."""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO
from tests.servers import free_port, wait_until_healthy

DEPLOYMENT = "synthir-schedule-test"
# The cheapest real model: llama.cpp (extra [llamacpp]) loads the embedded GGUF in ~1 s in
# each run's fresh process; the transformers backend takes about a minute there.
BACKEND = "llamacpp" if importlib.util.find_spec("llama_cpp") else "transformers"


def _start(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start `cmd` in its own process group (so its children are stopped with it)."""
    with log.open("wb") as fh:
        return subprocess.Popen(cmd, cwd=REPO, env=env, stdout=fh, stderr=subprocess.STDOUT,
                                start_new_session=True)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group, SIGKILL it if it has not exited after 20 s."""
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _tail(log: Path, n: int = 40) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-n:])


@pytest.fixture
def prefect_server(tmp_path: Path) -> Iterator[str]:
    """A real Prefect server (sqlite under a temporary PREFECT_HOME); yields its API URL."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env.update({
        "PREFECT_HOME": str(tmp_path / "prefect-home"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "1",  # default 60
        "PREFECT_SERVER_SERVICES_SCHEDULER_MIN_RUNS": "2",
        "PREFECT_SERVER_SERVICES_SCHEDULER_MAX_RUNS": "5",  # default 100 runs ahead
    })
    log = tmp_path / "server.log"
    proc = _start([sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
                   "--port", str(port), "--no-ui"], env, log)
    api = f"http://127.0.0.1:{port}/api"
    try:
        wait_until_healthy(f"{api}/health", proc, log, 120)
        yield api
    finally:
        _stop(proc)


def _runs(api: str) -> list[dict]:
    """The flow runs of the served deployment (not their `synthir-generate` subflow runs)."""
    body = {"deployments": {"name": {"any_": [DEPLOYMENT]}}}
    r = httpx.post(f"{api}/flow_runs/filter", json=body, timeout=10)
    r.raise_for_status()
    return r.json()


@pytest.mark.slow
def test_served_flow_runs_on_schedule_and_publishes(prefect_server, tmp_path):
    from synthir.wiki import export_wiki_corpus

    corpus = tmp_path / "corpus.jsonl"  # 20 passages: indexing is instant
    export_wiki_corpus(["en", "fr"], corpus, max_per_lang=10, seed=1)
    out = tmp_path / "runs" / "{datetime}"  # a fresh dataset per scheduled run
    env = {**os.environ, "PREFECT_API_URL": prefect_server, "PREFECT_HOME": str(tmp_path / "home"),
           "PREFECT_RUNNER_POLL_FREQUENCY": "1"}  # default 10 s
    log = tmp_path / "serve.log"
    serve = _start([sys.executable, "-m", "flows.serve", "configs/demo.yaml",
                    "--set", f"corpus.path={corpus}", "--set", "sample.n=2",
                    "--set", f"llm.backend={BACKEND}",
                    "--set", "orchestration.schedule.interval_seconds=5",
                    "--out", str(out), "--name", DEPLOYMENT], env, log)
    done: list[dict] = []
    try:
        deadline = time.monotonic() + 360
        while len(done) < 2:
            assert serve.poll() is None, f"flows.serve exited ({serve.returncode}):\n{_tail(log)}"
            assert time.monotonic() < deadline, f"fewer than 2 runs completed:\n{_tail(log)}"
            runs = _runs(prefect_server)
            bad = [r for r in runs if r["state_type"] in ("FAILED", "CRASHED")]
            assert not bad, f"run {bad[0]['name']} {bad[0]['state_type']}:\n{_tail(log, 80)}"
            done = [r for r in runs if r["state_type"] == "COMPLETED"]
            time.sleep(1)
    finally:
        _stop(serve)

    from datasets import load_dataset

    from flows.serve import expand_output_dir

    # each run wrote the dir named by its scheduled start time, and it loads
    dirs = {expand_output_dir(out, datetime.fromisoformat(r["expected_start_time"]), "UTC")
            for r in done}
    assert len(dirs) == len(done) >= 2
    for d in dirs:
        assert len(load_dataset(str(d), "pairs")["train"]) > 0


def test_serve_cli_errors_are_one_line_exit_2(tmp_path, capsys):
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from flows.serve import main

    base = ["configs/demo.yaml", "--out", str(tmp_path / "out")]
    assert main(base) == 2  # demo.yaml has no schedule
    assert "nothing to schedule" in capsys.readouterr().err.strip().splitlines()[-1]
    assert main(base + ["--set", "orchestration.schedule.cron=not a cron"]) == 2
    assert "Invalid cron string" in capsys.readouterr().err
    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        assert main(base + ["--set", "orchestration.schedule.interval_seconds=60"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "prefect server start" in err[0] and "PREFECT_API_URL" in err[0]
