"""Crash and resume: the Prefect flow is SIGKILLed mid-generation, then re-run with the same
config. The LLM is a real llama.cpp server, so its access log counts every call it received.

- reference: `synthir run` without interruption (own response cache) -> T calls;
- killed: `python -m flows.generate` SIGKILLed once some responses are cached (C of them);
- resumed: the same command again -> exactly T - C calls: none for finished work;
and the resumed dataset's files are byte-identical to the reference's.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.servers import ALIAS, Server

pytestmark = pytest.mark.slow


def _cached(cache_dir: Path) -> int:
    db = cache_dir / "responses.sqlite"
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(str(db), timeout=5) as con:
            return con.execute("SELECT COUNT(*) FROM responses").fetchone()[0]
    except sqlite3.OperationalError:  # table not created yet
        return 0


def _files(root: Path) -> dict[str, bytes]:
    """The published dataset, minus the card (it reports wall times and cache hits)."""
    return {f"{top}/{p.relative_to(root / top)}": p.read_bytes() for top in ("data", "beir")
            for p in sorted((root / top).rglob("*")) if p.is_file()}  # data, beir: links, followed


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from synthir.llm.models import embedded_gguf

    # n_batch 1: the killed run's first prompt follows the reference run's last one on this
    # server, and llama.cpp's logits depend on the prefix reused from the previous request
    srv = Server(embedded_gguf()[0], tmp_path_factory.mktemp("server") / "server.log", n_batch=1)
    yield srv
    srv.kill()


def test_sigkilled_flow_resumes_without_repeating_calls(server, wiki_corpus, tmp_path):
    sets = [f"corpus.path={wiki_corpus}", "sample.n=6", "sample.seed=3", "shard_size=2",
            "llm.backend=openai", f"llm.model={ALIAS}", f"llm.base_url={server.base_url}",
            "llm.server=llamacpp", "llm.max_concurrency=1", "llm.batch_size=2"]
    args = [a for s in sets for a in ("--set", s)]

    def env(cache: Path) -> dict[str, str]:
        return {**os.environ, "SYNTHIR_CACHE_DIR": str(cache), "PYTHONUNBUFFERED": "1"}

    # 1. reference, uninterrupted
    before = server.requests()
    ref = subprocess.run([sys.executable, "-m", "synthir.cli", "run", "configs/demo.yaml", *args,
                          "--out", str(tmp_path / "ref"), "--no-progress"], cwd=REPO,
                         env=env(tmp_path / "cache-ref"), capture_output=True, text=True, timeout=900)
    assert ref.returncode == 0, ref.stderr[-3000:]
    total = server.requests() - before
    samples = 8  # the demo's num_queries: one cache entry holds a prompt's 8 samples (requests)
    assert total == 6 * 2 * samples  # 6 passages x (en, fr) x 8 samples

    # 2. the flow, SIGKILLed once 5 responses are cached (mid-generation)
    cache = tmp_path / "cache-run"
    cmd = [sys.executable, "-m", "flows.generate", "configs/demo.yaml", *args, "--out", str(tmp_path / "run")]
    log = (tmp_path / "killed.log").open("wb")
    proc = subprocess.Popen(cmd, cwd=REPO, env=env(cache), stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    deadline = time.time() + 600
    try:
        while _cached(cache) < 5 and proc.poll() is None and time.time() < deadline:
            time.sleep(0.2)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)  # the flow and its temporary Prefect server
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, (tmp_path / "killed.log").read_text()[-3000:]
    finished = _cached(cache)  # prompts whose samples all came back
    assert 5 <= finished < total // samples
    assert not (tmp_path / "run" / "README.md").exists()  # nothing was published

    # 3. the same command again: only the unfinished calls reach the server
    before = server.requests()
    again = subprocess.run(cmd, cwd=REPO, env=env(cache), capture_output=True, text=True, timeout=900)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert server.requests() - before == total - finished * samples
    assert _cached(cache) == total // samples

    ref_files, run_files = _files(tmp_path / "ref"), _files(tmp_path / "run")
    assert any(name.startswith("data/pairs/") for name in ref_files)
    assert run_files == ref_files
