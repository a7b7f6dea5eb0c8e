"""`synthir publish RUN_DIR`: re-publish with new publish options, refuse data-changing
overrides, and push the exact local layout (recording client at the network boundary)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from datasets import load_dataset

from synthir.cli import main
from synthir.publish.hf import publish
from synthir.publish.hub import local_files
from tests.hub_recorder import RecordingApi
from tests.planted import make_planted_run

SECRET = "hf_release_secret_0b1c2d3e4f"


@pytest.fixture
def run_dir(tmp_path) -> Path:
    cfg, paths, _, _ = make_planted_run(tmp_path / "out")
    publish(cfg, paths)
    return paths.root


def test_republish_changes_the_split_only(run_dir, capsys):
    assert set(load_dataset(str(run_dir), "pairs")) == {"train", "dev"}
    assert main(["publish", str(run_dir), "--set", "output.dev_fraction=0",
                 "--set", "output.license=mit"]) == 0
    pairs = load_dataset(str(run_dir), "pairs")
    assert set(pairs) == {"train"} and pairs["train"].num_rows == 4
    assert "Licence: **mit**" in (run_dir / "README.md").read_text(encoding="utf-8")
    assert "synthir: dataset written to" in capsys.readouterr().out


def test_republish_refuses_an_override_that_changes_the_data(run_dir, capsys):
    before = (run_dir / "README.md").read_bytes()
    assert main(["publish", str(run_dir), "--set", "mining.num_negatives=5"]) == 2
    assert "may only change output.* and orchestration.*" in capsys.readouterr().err
    assert (run_dir / "README.md").read_bytes() == before
    assert main(["publish", str(run_dir.parent / "nothing-here")]) == 2
    assert "holds no synthir run" in capsys.readouterr().err


def test_push_uploads_exactly_the_local_layout(run_dir, monkeypatch, caplog, capsys):
    RecordingApi.instances = []
    monkeypatch.setattr("synthir.publish.hub.HfApi", RecordingApi)
    monkeypatch.setenv("HF_TOKEN", SECRET)
    caplog.set_level("DEBUG")
    assert main(["-v", "publish", str(run_dir), "--push", "org/synthetic-ir"]) == 0
    (api,) = RecordingApi.instances
    assert api.token == SECRET
    [commit] = api.named("create_commit")
    local = local_files(run_dir)
    assert sorted(commit["contents"]) == local  # README, funnel.json, data/*, beir/*
    assert {p.split("/")[0] for p in local} == {"README.md", "funnel.json", "data", "beir"}
    for rel, content in commit["contents"].items():
        assert content == (run_dir / rel).read_bytes()
    assert api.named("create_repo")[0]["private"] is True
    out = capsys.readouterr()
    assert "pushed   https://huggingface.co/datasets/org/synthetic-ir" in out.out
    assert SECRET not in out.out + out.err + caplog.text
    for p in run_dir.rglob("*"):
        if p.is_file():
            assert SECRET.encode() not in p.read_bytes(), p
    card = (run_dir / "README.md").read_text(encoding="utf-8")
    assert 'load_dataset("org/synthetic-ir", "pairs")' in card  # the card names the hub repo


def test_failed_push_keeps_the_local_dataset(run_dir, monkeypatch, capsys):
    monkeypatch.delenv("HF_TOKEN", raising=False)
    assert main(["publish", str(run_dir), "--push", "org/synthetic-ir"]) == 2
    err = capsys.readouterr().err
    assert "published locally in" in err and "HF_TOKEN is not set" in err
    assert load_dataset(str(run_dir), "pairs")["train"].num_rows == 2
    meta = json.loads((run_dir / ".synthir" / "config.json").read_text())
    assert meta["config"]["output"].get("hub", {}).get("repo_id") is None  # run config untouched
