"""The training recipe (synthir.eval.train): one-line errors naming the flag, the device and
precision a run trains on, the per-student defaults, and the losses built from them."""

from __future__ import annotations

from pathlib import Path

import pytest

from synthir.errors import ConfigError
from synthir.eval.train import TrainOptions


@pytest.mark.parametrize("opts, flag", [
    (TrainOptions(loss="mse"), "--loss"), (TrainOptions(batch_size=0), "--batch-size"),
    (TrainOptions(learning_rate=0.0), "--lr"), (TrainOptions(warmup_ratio=1.0), "--warmup-ratio"),
    (TrainOptions(epochs=0.0), "--epochs"), (TrainOptions(config="ntuples"), "--config"),
    (TrainOptions(max_rows=-1), "--max-train-rows"), (TrainOptions(device="tpu"), "--device"),
    (TrainOptions(precision="fp16"), "--precision"), (TrainOptions(mini_batch_size=-1), "--mini-batch-size"),
    (TrainOptions(loss="marginmse", mini_batch_size=8), "--mini-batch-size")])
def test_bad_recipe_names_the_flag(opts, flag):
    with pytest.raises(ConfigError, match=flag):
        opts.check()
    TrainOptions(epochs=0.0, max_steps=3).check()  # steps instead of epochs is fine


def test_device_auto_follows_torch_and_cuda_without_a_gpu_is_a_config_error(monkeypatch):
    import torch

    from synthir.eval.train import resolve_device

    assert resolve_device("cpu") == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == "cpu"
    with pytest.raises(ConfigError, match="--device cuda: torch .* sees no CUDA device"):
        TrainOptions(device="cuda").check()
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == resolve_device("cuda") == "cuda"
    assert resolve_device("cpu") == "cpu"  # asked for, even beside a GPU


def test_bf16_needs_a_cpu_that_computes_it_and_is_part_of_the_recipe(monkeypatch):
    import synthir.eval.train as train
    from synthir.cli import build_parser, train_options
    from synthir.eval.merge import training_record

    monkeypatch.setattr(train, "native_bf16_cpu", lambda: False)
    with pytest.raises(ConfigError, match="--precision bf16: this CPU has no native bf16"):
        TrainOptions(precision="bf16", device="cpu").check()
    TrainOptions(precision="fp32", device="cpu").check()
    monkeypatch.setattr(train, "native_bf16_cpu", lambda: True)
    TrainOptions(precision="bf16", device="cpu").check()
    args = build_parser().parse_args(["eval", "ds", "--beir", "b", "--out", "o", "--precision", "bf16"])
    assert train_options(args).precision == "bf16"
    assert train_options(build_parser().parse_args(["eval", "ds", "--beir", "b", "--out", "o"])).precision == "fp32"
    # a run recorded before the option (no precision) is the same recipe as fp32, not as bf16
    old = training_record("e5-small", {"synthetic": 3}, {"epochs": 3.0})
    assert old == training_record("e5-small", {"synthetic": 3}, {"epochs": 3.0, "precision": "fp32"})
    assert old != training_record("e5-small", {"synthetic": 3}, {"epochs": 3.0, "precision": "bf16"})


def test_auto_precision_resolves_to_what_the_device_computes_natively(monkeypatch):
    """`auto` is bf16 where the device has native bf16 and fp32 elsewhere; for_student resolves it,
    so the recipe eval.json records (and eval-merge compares) is the precision used."""
    import torch

    import synthir.eval.train as train
    from synthir.cli import build_parser, train_options
    from synthir.eval.train import resolve_precision

    monkeypatch.setattr(train, "native_bf16_cpu", lambda: True)
    assert TrainOptions(precision="auto", device="cpu").for_student("e5-small").precision == "bf16"
    monkeypatch.setattr(train, "native_bf16_cpu", lambda: False)
    assert TrainOptions(precision="auto", device="cpu").for_student("e5-small").precision == "fp32"
    TrainOptions(precision="auto", device="cpu").check()  # never refused: it falls back to fp32
    assert resolve_precision("fp32", "cpu") == "fp32" and resolve_precision("bf16", "cpu") == "bf16"
    args = build_parser().parse_args(["eval", "ds", "--beir", "b", "--out", "o", "--precision", "auto",
                                      "--device", "cpu"])
    assert train_options(args).precision == "fp32"  # resolved, not "auto"
    # a GPU is judged by torch's own bf16 report, not by the CPU's
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    assert resolve_precision("auto", "cuda") == "fp32"
    with pytest.raises(ConfigError, match="--precision bf16: this GPU has no bf16"):
        train.check_precision("bf16", "cuda")
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    assert resolve_precision("auto", "cuda") == "bf16"
    train.check_precision("bf16", "cuda")


def test_device_is_where_it_ran_not_the_recipe():
    from synthir.eval.merge import training_record

    a = training_record("e5-small", {"synthetic": 3}, {"epochs": 3.0, "device": "cuda"})
    b = training_record("e5-small", {"synthetic": 3}, {"epochs": 3.0, "device": "auto"})
    assert a == b and "device" not in a["options"]


def test_mnrl_scale_is_checked_and_reaches_the_loss():
    from synthir.eval.train import _loss

    with pytest.raises(ConfigError, match="--mnrl-scale"):
        TrainOptions(mnrl_scale=0.0).check()

    class Model:  # the loss only keeps a reference to the model
        pass

    assert _loss("mnrl", Model(), TrainOptions(mnrl_scale=100.0)).scale == 100.0
    assert _loss("mnrl", Model(), TrainOptions().for_student("minilm")).scale == 20.0  # sentence-transformers' own


def test_recipe_is_completed_per_student_and_finetune_refuses_an_incomplete_one():
    from synthir.eval.train import finetune

    assert TrainOptions().learning_rate is None and TrainOptions().mnrl_scale is None
    assert TrainOptions().for_student("e5-small").learning_rate == 2e-5
    assert TrainOptions(mnrl_scale=50.0).for_student("e5-small").mnrl_scale == 50.0
    TrainOptions().check()  # unset is valid: the student fills it
    with pytest.raises(ValueError, match="for_student"):
        finetune(object(), {"mnrl": [1]}, Path("."), TrainOptions())
    with pytest.raises(ValueError, match="for_student"):  # MNRL needs its scale
        finetune(object(), {"mnrl": [1]}, Path("."), TrainOptions(learning_rate=1e-4))


@pytest.mark.parametrize("model, flags, lr, scale", [
    ("minilm", [], 1e-4, 20.0), ("e5-small", [], 2e-5, 100.0),
    ("e5-small", ["--lr", "1e-4", "--mnrl-scale", "20"], 1e-4, 20.0), ("/some/model", [], 1e-4, 20.0)])
def test_eval_recipe_defaults_per_student(model, flags, lr, scale):
    from synthir.cli import build_parser, train_options

    args = build_parser().parse_args(["eval", "ds", "--beir", "b", "--out", "o", "--model", model, *flags])
    opts = train_options(args)
    assert (opts.learning_rate, opts.mnrl_scale) == (lr, scale)
