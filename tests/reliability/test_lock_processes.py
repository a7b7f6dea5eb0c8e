"""One process per output dir, for real: two `synthir` processes on one `--out` (the first held
inside its run by the LLM server), a SIGKILLed holder whose lock is taken over, two concurrent
`synthir publish`, and the Prefect flows refusing a held dir."""

from __future__ import annotations

import json
import os
import signal
import time

from datasets import load_dataset

from synthir.errors import RunDirBusy
from synthir.lock import output_lock
from synthir.publish.hf import publish
from tests.planted import make_planted_run
from tests.reliability.conftest import job_sets, synthir


def _one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("synthir: error:"), err[-2000:]
    return lines[0]


def test_second_process_fails_at_once_naming_the_holder(wiki_corpus, tmp_path, llm_server):
    server = llm_server(hold=True)
    out, cache = tmp_path / "out", tmp_path / "cache"
    first = synthir("run", "configs/demo.yaml", *job_sets(wiki_corpus, server), "--out", str(out),
                    "--no-progress", cache=cache, wait=False)
    try:
        assert server.entered.wait(180), "the first run never reached the LLM"
        holder = json.loads((out / ".synthir" / "lock.json").read_text())
        assert holder["pid"] == first.pid and " run " in f" {holder['command']} "
        for args in (("run", "configs/demo.yaml", *job_sets(wiki_corpus, server, **{"sample.seed": 4}),
                      "--out", str(out)),                                        # another config
                     ("run", "configs/demo.yaml", *job_sets(wiki_corpus, server), "--out", str(out)),  # same
                     ("publish", str(out))):
            other = synthir(*args, cache=cache)
            assert other.returncode == 2, other.stderr[-2000:]
            line = _one_line(other.stderr)
            assert f"in use by pid {first.pid}" in line and "(synthir run configs/demo.yaml" in line, line
            assert first.poll() is None  # it did not wait for the first run to end
        paid = server.requests
    finally:
        server.release()
    stdout, stderr = first.communicate(timeout=300)
    assert first.returncode == 0, stderr[-3000:]
    assert paid <= server.requests == 4  # 4 prompts: the refused runs paid for no LLM call
    meta = json.loads((out / ".synthir" / "config.json").read_text())
    assert meta["config"]["sample"]["seed"] == 13  # the config of the run that ran
    assert not (out / ".synthir" / "lock.json").exists()
    assert load_dataset(str(out), "pairs")["train"].num_rows > 0
    later = synthir("run", "configs/demo.yaml", *job_sets(wiki_corpus, server, **{"sample.seed": 4}),
                    "--out", str(out), cache=cache)
    assert later.returncode == 2 and "different config" in _one_line(later.stderr)


def test_lock_of_a_killed_run_is_taken_over(wiki_corpus, tmp_path, llm_server):
    server = llm_server(hold=True)
    out, cache = tmp_path / "out", tmp_path / "cache"
    args = ("run", "configs/demo.yaml", *job_sets(wiki_corpus, server), "--out", str(out), "--no-progress")
    killed = synthir(*args, cache=cache, wait=False)
    assert server.entered.wait(180)
    os.kill(killed.pid, signal.SIGKILL)
    killed.communicate(timeout=60)
    assert json.loads((out / ".synthir" / "lock.json").read_text())["pid"] == killed.pid  # left behind
    server.release()
    again = synthir(*args, cache=cache)
    assert again.returncode == 0, again.stderr[-3000:]
    assert f"taking over the stale lock of pid {killed.pid}" in again.stderr
    assert "no longer running" in again.stderr
    assert not (out / ".synthir" / "lock.json").exists()


def test_two_concurrent_publishes_leave_one_whole_dataset(tmp_path):
    cfg, paths, _, _ = make_planted_run(tmp_path / "out")
    publish(cfg, paths)
    root = paths.root
    for trial in range(2):
        procs = [synthir("publish", str(root), "--set", "output.dev_fraction=0", "--set",
                         f"output.license={lic}", cache=tmp_path / "cache", wait=False)
                 for lic in ("mit", "apache-2.0")]
        results = [(p.wait(timeout=300), p.communicate()[1]) for p in procs]
        assert {rc for rc, _ in results} <= {0, 2} and any(rc == 0 for rc, _ in results), results
        for rc, err in results:
            if rc == 2:
                assert "is in use by pid" in _one_line(err)
        card = (root / "README.md").read_text(encoding="utf-8")
        winners = [lic for (rc, _), lic in zip(results, ("mit", "apache-2.0")) if rc == 0]
        assert any(f"Licence: **{lic}**" in card for lic in winners)
        pairs = load_dataset(str(root), "pairs")
        assert set(pairs) == {"train"} and pairs["train"].num_rows == 4
        assert len([p for p in (root / ".synthir" / "published").iterdir()]) == 2  # current + 1


def test_flows_hold_the_lock(tmp_path):
    from flows.generate import generate
    from flows.publish import publish_flow

    cfg, paths, _, _ = make_planted_run(tmp_path / "out")
    publish(cfg, paths)
    before = (paths.root / "README.md").read_bytes()
    with output_lock(paths.root, command="holder-for-test"):
        for flow in (publish_flow, generate):
            t0 = time.monotonic()
            try:
                flow.fn(cfg)
            except RunDirBusy as exc:
                assert f"pid {os.getpid()}" in str(exc) and "holder-for-test" in str(exc)
            else:
                raise AssertionError(f"{flow.name} ran on a locked output dir")
            assert time.monotonic() - t0 < 30
    assert (paths.root / "README.md").read_bytes() == before
