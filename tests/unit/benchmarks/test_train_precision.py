"""benchmarks/train_precision.py: each precision trains the real student in its own process on
the same rows; a dataset it cannot train on stops with one line."""

from __future__ import annotations

import json

import pytest

from synthir.publish.hf import publish
from tests.benchmark_scripts import load_benchmark
from tests.planted import make_planted_run

bench = load_benchmark("train_precision")


def test_each_precision_trains_the_same_rows_in_its_own_process(tmp_path):
    from synthir.eval.train import native_bf16_cpu

    cfg, paths, _, _ = make_planted_run(tmp_path / "data", dev_fraction=0.0)
    publish(cfg, paths)
    precisions = ["fp32", "bf16"] if native_bf16_cpu() else ["fp32"]
    out = tmp_path / "r.json"
    assert bench.main(["--dataset", str(paths.root), "--model", "minilm", "--rows", "4",
                       "--precisions", *precisions, "--out", str(out)]) == 0
    res = json.loads(out.read_text())
    assert [r["precision"] for r in res["runs"]] == precisions
    assert all(r["rows"] == 4 and r["steps"] == 1 and r["loss"] > 0 for r in res["runs"])
    assert ("train_speedup" in res) == (len(precisions) == 2)
    if len(precisions) == 2:  # fp32 seconds over bf16 seconds, whichever ran first
        assert res["train_speedup"] == round(res["runs"][0]["train_seconds"] / res["runs"][1]["train_seconds"], 2)


def test_a_dataset_it_cannot_train_on_is_one_line(tmp_path):
    with pytest.raises(SystemExit, match=r"train_precision: .* is not a published synthir dataset"):
        bench.main(["--dataset", str(tmp_path), "--precisions", "fp32"])


def test_chunk_settings_run_interleaved_and_report_the_padded_over_chunked_seconds(tmp_path):
    cfg, paths, _, _ = make_planted_run(tmp_path / "data", dev_fraction=0.0)
    publish(cfg, paths)
    out = tmp_path / "r.json"
    assert bench.main(["--dataset", str(paths.root), "--model", "minilm", "--rows", "4", "--precisions", "fp32",
                       "--chunk-rows", "0", "2", "--repeats", "2", "--out", str(out)]) == 0
    res = json.loads(out.read_text())
    assert [r["chunk_rows"] for r in res["runs"]] == [0, 2, 0, 2]  # interleaved, not one block each
    secs = {c: sum(r["train_seconds"] for r in res["runs"] if r["chunk_rows"] == c) / 2 for c in (0, 2)}
    assert res["mean_seconds"] == {"fp32 chunk 0": round(secs[0], 1), "fp32 chunk 2": round(secs[2], 1)}
    assert res["chunk_speedup"] == {"fp32 chunk 2": round(secs[0] / secs[2], 2)}
    with pytest.raises(SystemExit, match="--repeats must be >= 1"):
        bench.main(["--dataset", str(paths.root), "--repeats", "0"])


def test_freeze_settings_report_the_trained_over_frozen_seconds(tmp_path):
    cfg, paths, _, _ = make_planted_run(tmp_path / "data", dev_fraction=0.0)
    publish(cfg, paths)
    out = tmp_path / "r.json"
    assert bench.main(["--dataset", str(paths.root), "--model", "minilm", "--rows", "4", "--precisions", "fp32",
                       "--freeze-layers", "0", "3", "--out", str(out)]) == 0
    res = json.loads(out.read_text())
    assert [r["freeze_layers"] for r in res["runs"]] == [0, 3]
    secs = [r["train_seconds"] for r in res["runs"]]
    assert list(res["mean_seconds"]) == ["fp32", "fp32 freeze 3"]
    assert res["freeze_speedup"] == {"fp32 freeze 3": round(secs[0] / secs[1], 2)}
    assert "chunk_speedup" not in res
    with pytest.raises(SystemExit, match="--freeze-layers >= 0"):
        bench.main(["--dataset", str(paths.root), "--freeze-layers", "-1"])
