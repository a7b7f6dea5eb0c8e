"""`python -m flows.publish`: the re-publish + push flow on Prefect's temporary server, over a
planted finished run (the push goes to a recording client at the network boundary)."""

from __future__ import annotations

import pytest
from datasets import load_dataset

from synthir.publish.hf import publish
from tests.hub_recorder import RecordingApi
from tests.planted import make_planted_run

pytestmark = pytest.mark.slow


def test_publish_flow_republishes_and_pushes(tmp_path, monkeypatch, capsys):
    from flows.publish import main

    cfg, paths, _, _ = make_planted_run(tmp_path / "out")
    publish(cfg, paths)
    RecordingApi.instances = []
    monkeypatch.setattr("synthir.publish.hub.HfApi", RecordingApi)
    monkeypatch.setenv("HF_TOKEN", "hf_flow_secret_123")
    assert main([str(paths.root), "--set", "output.dev_fraction=0", "--push", "org/ds"]) == 0
    assert set(load_dataset(str(paths.root), "pairs")) == {"train"}
    (api,) = RecordingApi.instances
    [commit] = api.named("create_commit")
    assert "README.md" in commit["contents"] and not any(".synthir" in k for k in commit["contents"])
    out = capsys.readouterr()
    assert "pushed   https://huggingface.co/datasets/org/ds" in out.out
    assert "hf_flow_secret_123" not in out.out + out.err


def test_publish_flow_refuses_a_data_change(tmp_path, capsys):
    from flows.publish import main

    cfg, paths, _, _ = make_planted_run(tmp_path / "out")
    publish(cfg, paths)
    assert main([str(paths.root), "--set", "roundtrip.top_k=5"]) == 2
    assert "may only change output.*" in capsys.readouterr().err
