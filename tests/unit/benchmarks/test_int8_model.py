"""benchmarks/int8_model.py: the int8 pack of a model folder unpacks to the same tensors, within
half a quantization step per row, and every other file comes back unchanged."""

from __future__ import annotations

import numpy as np
from safetensors.numpy import load_file, save_file

from tests.benchmark_scripts import load_benchmark


def test_pack_unpack_round_trip(tmp_path):
    int8 = load_benchmark("int8_model")
    rng = np.random.default_rng(0)
    src, packed, back = tmp_path / "model", tmp_path / "packed", tmp_path / "back"
    (src / "1_Pooling").mkdir(parents=True)
    tensors = {"w": rng.normal(size=(50, 16)).astype(np.float32),
               "zero_row": np.zeros((2, 4), dtype=np.float32),
               "bias": rng.normal(size=16).astype(np.float32),
               "ids": np.arange(6, dtype=np.int64).reshape(2, 3)}
    save_file(tensors, str(src / "model.safetensors"))
    (src / "config.json").write_text('{"hidden_size": 16}')
    (src / "1_Pooling" / "config.json").write_text('{"pooling_mode_mean_tokens": true}')
    int8.pack(src, packed)
    assert not (packed / "model.safetensors").exists()
    int8.unpack(packed, back)
    out = load_file(str(back / "model.safetensors"))
    assert set(out) == set(tensors)
    step = np.abs(tensors["w"]).max(axis=1, keepdims=True) / 127.0
    assert np.all(np.abs(out["w"] - tensors["w"]) <= step / 2 + 1e-7) and not np.array_equal(out["w"], tensors["w"])
    assert np.array_equal(out["zero_row"], tensors["zero_row"])
    assert np.array_equal(out["bias"], tensors["bias"]) and np.array_equal(out["ids"], tensors["ids"])
    assert (back / "1_Pooling" / "config.json").read_text() == '{"pooling_mode_mean_tokens": true}'
    assert not (back / "weights-int8.npz").exists()
