"""The real Prefect flow (temporary local server), real model, a few passages."""

import json

import pytest
from datasets import load_dataset

from tests.conftest import demo_config

pytestmark = pytest.mark.slow


def test_generate_flow_publishes_a_dataset(wiki_corpus, real_llm, tmp_path):
    from flows.generate import generate

    cfg = demo_config(wiki_corpus, tmp_path / "out", **{"sample.n": 6, "sample.seed": 99,
                                                        "shard_size": 3})
    result = generate(cfg)
    shards = sorted((tmp_path / "out" / ".synthir" / "shards").iterdir())
    assert len(shards) == 2  # tasks map over shards, not items
    stats = [json.loads((s / "generate.done.json").read_text()) for s in shards]
    assert sum(s["tokens"]["completion"] for s in stats) > 0  # the model really ran
    assert result["rows"]["pairs"] == result["funnel"]["queries"]["roundtrip_kept"] > 0
    pairs = load_dataset(str(cfg.output.dir), "pairs")["train"]
    assert len(pairs) == result["rows"]["pairs"]
    assert result["funnel"]["queries"]["prompts"] == 96  # 6 passages x en, fr x 8 samples
    assert result["rows"]["documents"] == 0 and "documents" not in result["files"]  # none asked


def test_flow_cli_input_error_is_one_line_exit_2(tmp_path, capsys):
    from flows.generate import main

    rc = main(["configs/demo.yaml", "--set", f"corpus.path={tmp_path / 'missing.jsonl'}",
               "--out", str(tmp_path / "out")])
    assert rc == 2
    assert "corpus not found" in capsys.readouterr().err.strip().splitlines()[-1]
