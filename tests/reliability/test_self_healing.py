"""Run dirs heal, for real (`synthir` subprocesses, a local scripted LLM server): corrupted
response-cache entries are dropped, named, counted and re-requested; a deleted or truncated
work file makes its stage (and the ones after it) run again, with the same dataset as a
result; `synthir publish` alone refuses a damaged run dir in one line."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.reliability.conftest import job_sets, synthir


def dataset_files(root: Path) -> dict[str, bytes]:
    """The published data files (not the card / funnel: they hold wall times and cache hits)."""
    files = {f"data/{p.relative_to(root / 'data')}": p.read_bytes() for p in (root / "data").rglob("*")
             if p.is_file()}
    files.update({f"beir/{p.relative_to(root / 'beir')}": p.read_bytes() for p in (root / "beir").rglob("*")
                  if p.is_file()})
    return files


@pytest.fixture(scope="module")
def reference(wiki_corpus, tmp_path_factory):
    """One finished run (its out dir, response cache and the server it used)."""
    from tests.fake_openai import FakeOpenAI

    server = FakeOpenAI()
    base = tmp_path_factory.mktemp("reference")
    args = ("run", "configs/demo.yaml", *job_sets(wiki_corpus, server), "--no-progress")
    done = synthir(*args, "--out", str(base / "out"), cache=base / "cache")
    assert done.returncode == 0, done.stderr[-3000:]
    files = dataset_files(base / "out")
    assert any(k.startswith("data/hard_negatives/") for k in files)  # negatives are published
    yield {"dir": base / "out", "cache": base / "cache", "server": server, "args": args, "files": files}
    server.close()


def _copy(ref: dict, tmp_path: Path) -> tuple[Path, Path]:
    out, cache = tmp_path / "out", tmp_path / "cache"
    shutil.copytree(ref["dir"], out, symlinks=True)
    shutil.copytree(ref["cache"], cache)
    return out, cache


def _corrupt(db: Path) -> int:
    """Damage three entries: bytes that are not UTF-8, truncated JSON, a wrong shape."""
    with sqlite3.connect(str(db)) as con:
        keys = [k for (k,) in con.execute("SELECT key FROM responses ORDER BY key")][:3]
        con.execute("UPDATE responses SET value=CAST(X'FFFE00C3' AS TEXT) WHERE key=?", (keys[0],))
        value = con.execute("SELECT value FROM responses WHERE key=?", (keys[1],)).fetchone()[0]
        con.execute("UPDATE responses SET value=? WHERE key=?", (value[: len(value) // 2], keys[1]))
        con.execute("UPDATE responses SET value=? WHERE key=?", ('{"answer": 42}', keys[2]))
    return len(keys)


def test_corrupted_cache_entries_are_dropped_named_and_requested_again(reference, tmp_path):
    _, cache = _copy(reference, tmp_path)
    db = cache / "responses.sqlite"
    bad = _corrupt(db)
    server, before = reference["server"], reference["server"].requests
    fresh = synthir(*reference["args"], "--out", str(tmp_path / "fresh"), cache=cache)  # new dir: all from cache
    assert fresh.returncode == 0, fresh.stderr[-3000:]
    assert server.requests - before == bad  # only the damaged entries were paid again
    warnings = [line for line in fresh.stderr.splitlines() if "response cache" in line]
    assert len(warnings) == bad and all(str(db) in w for w in warnings), fresh.stderr[-3000:]
    assert f"{bad} bad cache entries re-requested" in fresh.stdout
    assert dataset_files(tmp_path / "fresh") == reference["files"]


def test_a_cache_file_that_is_not_a_database_is_moved_aside(reference, tmp_path):
    _, cache = _copy(reference, tmp_path)
    (cache / "responses.sqlite").write_bytes(b"\x00garbage, not SQLite" * 100)
    for extra in cache.glob("responses.sqlite-*"):
        extra.unlink()
    fresh = synthir(*reference["args"], "--out", str(tmp_path / "fresh"), cache=cache)
    assert fresh.returncode == 0, fresh.stderr[-3000:]
    assert "is unreadable" in fresh.stderr and "moved to responses.sqlite.corrupt-" in fresh.stderr
    assert dataset_files(tmp_path / "fresh") == reference["files"]


@pytest.mark.parametrize("damage", ["kept", "queries", "passages", "filtered", "negatives", "truncated"])
def test_deleted_or_truncated_work_file_is_rebuilt(reference, tmp_path, damage):
    out, cache = _copy(reference, tmp_path)
    shard = out / ".synthir" / "shards" / "00000"
    if damage == "truncated":
        path = shard / "queries.jsonl"
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    else:
        (shard / f"{damage}.jsonl").unlink()
    server, before = reference["server"], reference["server"].requests
    again = synthir(*reference["args"], "--out", str(out), cache=cache)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "running it again" in again.stderr
    assert server.requests == before  # rebuilt from the response cache
    assert dataset_files(out) == reference["files"]  # never fewer rows


def test_publish_alone_refuses_a_damaged_run_dir(reference, tmp_path):
    out, cache = _copy(reference, tmp_path)
    before = dataset_files(out)
    (out / ".synthir" / "shards" / "00001" / "negatives.jsonl").unlink()
    refused = synthir("publish", str(out), cache=cache)
    assert refused.returncode == 2
    [line] = refused.stderr.strip().splitlines()
    assert "is damaged" in line and "shards/00001/negatives.jsonl" in line and "stage mine" in line
    assert dataset_files(out) == before  # the published dataset is untouched
    repaired = synthir(*reference["args"], "--out", str(out), cache=cache)
    assert repaired.returncode == 0, repaired.stderr[-3000:]
    assert synthir("publish", str(out), cache=cache).returncode == 0
    assert dataset_files(out) == reference["files"]
