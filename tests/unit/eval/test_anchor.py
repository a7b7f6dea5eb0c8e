"""MNRL anchored to the base (synthir.eval.anchor): with the student still equal to the base the
loss is MNRL's; the anchor's gradient pulls toward the base; a fine-tune with a heavy anchor ends
nearer the base than one without; bad weights and losses are one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from synthir.errors import ConfigError
from synthir.eval.train import TrainOptions
from tests.help_pairs import PAGES, QUERIES


@pytest.fixture()
def minilm():
    from synthir.eval.harness import _load_model

    return _load_model("minilm", 64)


def _features(st):
    return [st.preprocess(QUERIES), st.preprocess(PAGES)]


def test_equal_to_mnrl_while_the_student_is_the_base_then_pulled_back(minilm):
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    from synthir.eval.anchor import AnchoredMNRL

    minilm.eval()  # no dropout: the student and its frozen copy give the same embeddings
    mnrl = MultipleNegativesRankingLoss(minilm, scale=20.0)
    anchored = AnchoredMNRL(minilm, mnrl, weight=50.0)
    assert not any(p.requires_grad for p in anchored.guide.parameters())
    labels = torch.arange(len(QUERIES))
    plain = mnrl(_features(minilm), labels)
    loss = anchored(_features(minilm), labels)
    assert anchored.last_drift < 1e-5 and loss.item() == pytest.approx(plain.item(), abs=1e-3)
    with torch.no_grad():  # move the student away from the base: the drift term appears
        for p in minilm[0].auto_model.encoder.layer[-1].parameters():
            p.add_(0.05 * torch.randn_like(p))
    loss = anchored(_features(minilm), labels)
    assert anchored.last_drift > 1e-4
    assert loss.item() == pytest.approx(mnrl(_features(minilm), labels).item() + 50.0 * anchored.last_drift,
                                        rel=1e-3)
    with pytest.raises(ValueError, match="anchor weight must be > 0"):
        AnchoredMNRL(minilm, mnrl, weight=0.0)


def _drift_after_training(tmp_path: Path, anchor: float) -> float:
    import datasets

    from synthir.eval.harness import _load_model
    from synthir.eval.train import finetune

    base, st = _load_model("minilm", 64), _load_model("minilm", 64)
    rows = datasets.Dataset.from_dict({"anchor": QUERIES, "positive": PAGES})
    opts = TrainOptions(max_steps=4, batch_size=8, learning_rate=5e-4, device="cpu", anchor=anchor,
                        chunk_rows=3).for_student("minilm")
    opts.check()
    stats = finetune(st, {"mnrl": rows}, tmp_path, opts)
    assert stats["steps"] == 4 and stats.get("anchor_drift", 0.0) >= 0 and ("anchor_drift" in stats) == (anchor > 0)
    texts = QUERIES + PAGES
    a = base.encode(texts, normalize_embeddings=True, convert_to_tensor=True)
    b = st.encode(texts, normalize_embeddings=True, convert_to_tensor=True)
    return float((1 - (a * b).sum(dim=1)).mean())


def test_a_heavy_anchor_ends_nearer_the_base(tmp_path: Path):
    free, held = _drift_after_training(tmp_path / "free", 0.0), _drift_after_training(tmp_path / "held", 1000.0)
    assert free > 0.001 and held < free / 2, (free, held)


def test_anchor_is_checked_in_one_line():
    with pytest.raises(ConfigError, match="--anchor must be >= 0"):
        TrainOptions(anchor=-1.0, device="cpu").check()
    for bad in (TrainOptions(anchor=1.0, loss="gist", device="cpu"),
                TrainOptions(anchor=1.0, mini_batch_size=8, device="cpu")):
        with pytest.raises(ConfigError, match="--anchor adds to the plain mnrl loss"):
            bad.check()


def test_the_flag_reaches_the_recipe_and_an_anchored_run_is_another_recipe():
    from synthir.cli import build_parser, train_options
    from synthir.eval.merge import training_record

    parse = build_parser().parse_args
    assert train_options(parse(["eval", "ds", "--beir", "b", "--out", "o"])).anchor == 0.0
    assert train_options(parse(["eval", "ds", "--beir", "b", "--out", "o", "--anchor", "10"])).anchor == 10.0
    old = training_record("e5-small", {"synthetic": 3}, {"epochs": 3.0})
    assert old == training_record("e5-small", {"synthetic": 3}, {"epochs": 3.0, "anchor": 0.0})
    assert old != training_record("e5-small", {"synthetic": 3}, {"epochs": 3.0, "anchor": 10.0})
