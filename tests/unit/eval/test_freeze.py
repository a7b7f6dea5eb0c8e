"""Freezing the bottom of a student (synthir.eval.freeze, `synthir eval --freeze-layers`): the
embeddings and the first N layers of the packaged MiniLM keep the base's weights through a real
fine-tune while the layers above change; every flag comes back; bad N is a one-line error."""

from __future__ import annotations

from pathlib import Path

import pytest

from synthir.errors import ConfigError
from synthir.eval.freeze import encoder_parts, frozen_bottom
from synthir.eval.train import TrainOptions

TEXTS = ["how do I print two pages on one sheet", "change the wallpaper", "where are my screenshots saved",
         "scan a document to PDF", "search the terminal history", "set an alarm for tomorrow",
         "open a zip archive", "record a video with the webcam"]


@pytest.fixture(scope="module")
def minilm():
    from synthir.eval.harness import _load_model

    return _load_model("minilm", 64)


def test_the_embeddings_and_the_first_layers_are_frozen_inside_the_block_only(minilm):
    embeddings, layers = encoder_parts(minilm[0])
    assert len(layers) == 6  # all-MiniLM-L6-v2
    before = {n: p.requires_grad for n, p in minilm.named_parameters()}
    assert all(before.values())
    with frozen_bottom(minilm[0], 2) as frozen:
        still = {n for n, p in minilm.named_parameters() if p.requires_grad}
        assert frozen == sum(p.numel() for part in (embeddings, *layers[:2]) for p in part.parameters())
    assert still and not any(".embeddings." in n or ".layer.0." in n or ".layer.1." in n for n in still)
    assert any(".layer.2." in n for n in still) and any(".layer.5." in n for n in still)
    assert {n: p.requires_grad for n, p in minilm.named_parameters()} == before
    with frozen_bottom(minilm[0], 0) as frozen:
        assert frozen == 0 and all(p.requires_grad for p in minilm.parameters())


def test_a_count_that_leaves_nothing_to_train_or_a_model_without_layers_is_a_one_line_error(minilm):
    import torch

    for n, msg in ((6, "has 6 layers; at most 5"), (-1, ">= 0")):
        with pytest.raises(ConfigError, match=msg), frozen_bottom(minilm[0], n):
            pass
    with pytest.raises(ConfigError, match="Linear has no embeddings"), frozen_bottom(torch.nn.Linear(2, 2), 1):
        pass
    assert all(p.requires_grad for p in minilm.parameters())
    with pytest.raises(ConfigError, match="--freeze-layers must be >= 0"):
        TrainOptions(freeze_layers=-2).check()


def test_the_flag_reaches_the_recipe_and_old_runs_merge_with_unfrozen_ones():
    from synthir.cli import build_parser, train_options
    from synthir.eval.merge import training_record

    parse = build_parser().parse_args
    assert train_options(parse(["eval", "ds", "--beir", "b", "--out", "o"])).freeze_layers == 0
    assert train_options(parse(["eval", "ds", "--beir", "b", "--out", "o", "--freeze-layers", "4"])).freeze_layers == 4
    old = training_record("e5-small", {"synthetic": 3}, {"epochs": 3.0})
    assert old == training_record("e5-small", {"synthetic": 3}, {"epochs": 3.0, "freeze_layers": 0})
    # a frozen run is another recipe: eval-merge must not pool it with an unfrozen one
    assert old != training_record("e5-small", {"synthetic": 3}, {"epochs": 3.0, "freeze_layers": 4})


def test_finetune_leaves_the_frozen_weights_as_they_were_and_trains_the_rest(tmp_path: Path):
    import datasets

    from synthir.eval.harness import _load_model
    from synthir.eval.train import finetune

    st = _load_model("minilm", 64)
    before = {n: p.detach().clone() for n, p in st.named_parameters()}
    rows = datasets.Dataset.from_dict({"anchor": [t.split()[-1] for t in TEXTS], "positive": TEXTS})
    opts = TrainOptions(max_steps=3, batch_size=8, freeze_layers=3, device="cpu",
                        learning_rate=1e-3, warmup_ratio=0.0).for_student("minilm")
    stats = finetune(st, {"mnrl": rows}, tmp_path, opts)
    assert stats["steps"] == 3 and stats["frozen_params"] > 0
    after = dict(st.named_parameters())
    frozen = [n for n in before if ".embeddings." in n or any(f".layer.{i}." in n for i in range(3))]
    top = [n for n in before if ".layer.5." in n]
    assert frozen and top
    assert all(torch_equal(before[n], after[n]) for n in frozen)
    assert sum(not torch_equal(before[n], after[n]) for n in top) >= len(top) // 2
    assert all(p.requires_grad for p in st.parameters())  # the model goes back as it was built


def torch_equal(a, b) -> bool:
    import torch

    return bool(torch.equal(a, b))


def test_run_eval_refuses_a_count_the_student_cannot_take_before_encoding_anything(tmp_path: Path, monkeypatch):
    """A bad --freeze-layers is a one-line error before the base arm encodes the corpus."""
    from synthir.eval import harness
    from synthir.eval.harness import EvalOptions, run_eval
    from synthir.io.beir import write_beir
    from synthir.publish.hf import publish
    from tests.planted import make_planted_run

    cfg, paths, _, _ = make_planted_run(tmp_path / "data", dev_fraction=0.0)
    publish(cfg, paths)
    write_beir(tmp_path / "beir", [{"_id": "d0", "title": "", "text": "print two pages on one sheet"}],
               [{"_id": "q0", "text": "two pages per sheet"}], {"test": [("q0", "d0", 1)]})
    encoded = []
    monkeypatch.setattr(harness, "retrieve", lambda *a, **k: encoded.append(1))
    opts = TrainOptions(freeze_layers=6, max_steps=1, device="cpu").for_student("minilm")
    with pytest.raises(ConfigError, match="the model has 6 layers; at most 5"):
        run_eval(paths.root, tmp_path / "beir", tmp_path / "out", model="minilm", opts=opts, eval_opts=EvalOptions())
    assert encoded == []
