"""Helpers of the fault-injection tests: real `synthir` subprocesses on a small real corpus,
with the LLM behind a local scripted OpenAI-compatible server (tests/fake_openai.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from datasets import load_dataset

from tests.conftest import ONE_GREEDY_QUERY, REPO
from tests.fake_openai import FakeOpenAI


def job_sets(corpus: Path, server: FakeOpenAI, **sets: object) -> list[str]:
    """`--set` arguments of a small real run: 4 English passages in 2 shards, the openai
    backend on `server` (so the demo recipe's copy penalty off: servers take no per-prompt logit
    bias, and the one-line-error checks read the whole stderr), 2 mined negatives per pair."""
    base = {"corpus.path": corpus, "sample.n": 4, "shard_size": 2, "languages": "[en]",
            "sample.languages": "[en]", "llm.backend": "openai", "llm.model": "m",
            "generation.queries[0].copy_penalty": 0,
            "llm.base_url": server.base_url, "llm.api_key_env": "null", "llm.max_retries": 0,
            "mining.num_negatives": 2, **ONE_GREEDY_QUERY, **sets}
    return [a for k, v in base.items() for a in ("--set", f"{k}={v}")]


def synthir_env(cache: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": f"{REPO / 'src'}{os.pathsep}{REPO}",
            "SYNTHIR_CACHE_DIR": str(cache), "PYTHONUNBUFFERED": "1", **extra}


def synthir(*args: str, cache: Path, wait: bool = True, timeout: float = 300,
            **popen: object) -> subprocess.CompletedProcess | subprocess.Popen:
    """Run (or, with wait=False, start) `python -m synthir.cli ARGS` from the repo root."""
    cmd = [sys.executable, "-m", "synthir.cli", *args]
    env = synthir_env(cache)
    if wait:
        return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout, **popen)
    return subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, **popen)


def whole_dataset(root: Path) -> str:
    """For a planted run published with dev_fraction 0.3 / licence cc-by-sa-4.0 (old), then
    0 / mit (new): 'old' or 'new' when the dataset at `root` is wholly one of them (else the test fails)."""
    card = (root / "README.md").read_text(encoding="utf-8")
    which = "new" if "Licence: **mit**" in card else "old"
    meta = yaml.safe_load(card.split("---")[1])
    listed = [f["path"] for c in meta["configs"] for f in c["data_files"]]
    assert listed and all((root / p).is_file() for p in listed), which
    funnel = json.loads((root / "funnel.json").read_text())
    pairs = load_dataset(str(root), "pairs")
    if which == "old":
        assert set(pairs) == {"train", "dev"} and funnel["splits"]["pairs"]["dev"] == 2
        assert (root / "beir" / "qrels" / "dev.tsv").is_file()
    else:
        assert set(pairs) == {"train"} and pairs["train"].num_rows == 4
        assert funnel["splits"]["pairs"].get("dev", 0) == 0
        assert not (root / "beir" / "qrels" / "dev.tsv").exists()
    return which



@pytest.fixture
def llm_server():
    servers: list[FakeOpenAI] = []

    def start(**kwargs: object) -> FakeOpenAI:
        servers.append(FakeOpenAI(**kwargs))
        return servers[-1]

    yield start
    for s in servers:
        s.close()
