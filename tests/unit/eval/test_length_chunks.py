"""Training forwards in length-sorted chunks (synthir.eval.length_chunks): the packaged MiniLM gives
the same embeddings and the same gradients as one padded forward, in the batch's order; inputs it
cannot cut fall back to one forward; the module's own forward is back after the block."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from synthir.errors import ConfigError
from synthir.eval.length_chunks import chunked_forward, length_chunked, right_padded
from synthir.eval.train import TrainOptions, chunk_rows

TEXTS = ["short", "a somewhat longer text about printing two pages on one sheet",
         "x " * 90, "how do I change the wallpaper", "ok",
         "the terminal keeps its history of commands; search it with Ctrl+R and a few letters " * 3,
         "volume", "where are my screenshots saved", "a b c d e f g h", "scan a document to PDF",
         "one more text of middling length for the last chunk"]


@pytest.fixture(scope="module")
def minilm():
    from synthir.eval.harness import _load_model

    st = _load_model("minilm", 128)
    st.eval()  # no dropout: a chunked forward must then give the padded forward's numbers
    return st


def _batch(st, texts):
    return st.preprocess(texts)  # padded to the longest text, right-padded


def test_chunked_forward_gives_the_padded_embeddings_in_the_batch_order(minilm):
    import torch

    features = _batch(minilm, TEXTS)
    assert right_padded(features["attention_mask"])
    with torch.no_grad():
        plain_out = minilm(dict(features))
        plain = plain_out["sentence_embedding"]
        with length_chunked(minilm[0], 3):
            chunked_out = minilm(dict(features))
    chunked = chunked_out["sentence_embedding"]
    assert chunked.shape == plain.shape
    assert (chunked - plain).abs().max().item() < 1e-5
    # rows stay in place: each row is closest to its own padded embedding
    assert torch.equal((chunked @ plain.T).argmax(dim=1), torch.arange(len(TEXTS)))
    # every real token's embedding is the padded forward's, at the batch's width
    tokens, mask = chunked_out["token_embeddings"], features["attention_mask"]
    assert tokens.shape == plain_out["token_embeddings"].shape
    assert (tokens - plain_out["token_embeddings"])[mask == 1].abs().max().item() < 1e-4


def test_chunked_training_step_has_the_padded_loss_and_gradients(minilm):
    """Dropout off: MNRL's loss and every parameter's gradient match one padded forward."""
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    loss_fn = MultipleNegativesRankingLoss(minilm, scale=20.0)
    queries = [t.split()[0] for t in TEXTS]

    def step(rows):
        minilm.zero_grad()
        with length_chunked(minilm[0], rows):
            loss = loss_fn([_batch(minilm, queries), _batch(minilm, TEXTS)], None)
        loss.backward()
        grads = {n: p.grad.detach().clone() for n, p in minilm.named_parameters() if p.grad is not None}
        return loss.item(), grads

    (loss0, g0), (loss1, g1) = step(0), step(4)
    assert abs(loss0 - loss1) < 1e-5
    assert g0.keys() == g1.keys() and len(g0) > 50
    # relative to each gradient, with a floor for those that are zero but for rounding (attention's
    # key biases: softmax ignores a constant added to every logit of a row)
    off = [n for n in g0 if (g0[n] - g1[n]).abs().max().item() > 1e-3 * g0[n].abs().max().item() + 1e-6]
    assert off == []
    minilm.zero_grad()


class Recorder:
    """A stand-in for a Transformer module: records the widths it is called with."""

    module_output_name = "token_embeddings"

    def __init__(self):
        self.calls = []

    def forward(self, features, **_kw):
        import torch

        ids = features["input_ids"]
        self.calls.append(tuple(ids.shape))
        features["token_embeddings"] = torch.ones(*ids.shape, 2) * features["attention_mask"].unsqueeze(-1)
        return features


def _features(masks, **extra):
    import torch

    mask = torch.tensor(masks)
    return {"input_ids": mask * 7, "attention_mask": mask, **extra}


def test_what_cannot_be_cut_runs_as_one_forward():
    import torch

    right = [[1, 1, 1, 0], [1, 0, 0, 0], [1, 1, 0, 0]]
    rec = Recorder()
    chunked_forward(rec, _features(right), rows=1)
    assert sorted(rec.calls) == [(1, 1), (1, 2), (1, 3)]  # one chunk per text, each at its own width
    cases = [(_features([[0, 1, 1], [0, 0, 1]]), 1),  # left-padded: cutting would move positions
             (_features(right, pixel_values=torch.zeros(3, 4, 4)), 1),  # a feature it cannot cut
             (_features(right), 3)]  # no more texts than a chunk holds
    for feats, rows in cases:
        rec = Recorder()
        out = chunked_forward(rec, feats, rows=rows)
        assert rec.calls == [tuple(feats["input_ids"].shape)]
        assert out["token_embeddings"].shape[:2] == feats["input_ids"].shape


def test_the_module_forward_is_back_after_the_block_even_on_error(minilm):
    module = minilm[0]
    with length_chunked(module, 4):
        assert "forward" in module.__dict__
    assert "forward" not in module.__dict__
    with pytest.raises(RuntimeError), length_chunked(module, 4):
        raise RuntimeError("boom")
    assert "forward" not in module.__dict__
    with length_chunked(module, 0):  # 0: off
        assert "forward" not in module.__dict__


def test_chunk_rows_on_a_gpu_is_off_unless_asked_for(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert chunk_rows(TrainOptions(device="auto")) == 0
    assert chunk_rows(TrainOptions(device="cpu")) == 8
    assert chunk_rows(TrainOptions(device="auto", chunk_rows=8)) == 8


def test_chunk_rows_is_a_flag_checked_and_not_part_of_the_recipe():
    from synthir.cli import build_parser, train_options
    from synthir.eval.merge import training_record

    with pytest.raises(ConfigError, match="--chunk-rows"):
        TrainOptions(chunk_rows=-1).check()
    parse = build_parser().parse_args
    unset = train_options(parse(["eval", "ds", "--beir", "b", "--out", "o"]))
    assert unset.chunk_rows is None
    assert chunk_rows(replace(unset, device="cpu")) == 8
    assert train_options(parse(["eval", "ds", "--beir", "b", "--out", "o", "--chunk-rows", "0"])).chunk_rows == 0
    assert chunk_rows(TrainOptions(chunk_rows=3, device="cpu")) == 3
    # how each forward was cut decides nothing a merge must match: old runs (no such option) pool with new ones
    old = training_record("e5-small", {"synthetic": 3}, {"epochs": 3.0})
    assert old == training_record("e5-small", {"synthetic": 3}, {"epochs": 3.0, "chunk_rows": 8})


def test_finetune_trains_in_chunks_and_leaves_the_model_as_it_was_built(tmp_path: Path, minilm):
    import datasets

    from synthir.eval.harness import _load_model
    from synthir.eval.train import finetune

    st = _load_model("minilm", 64)
    rows = datasets.Dataset.from_dict({"anchor": [t.split()[0] + str(i) for i, t in enumerate(TEXTS)],
                                       "positive": TEXTS})
    opts = TrainOptions(max_steps=2, batch_size=8, chunk_rows=3, device="cpu").for_student("minilm")
    stats = finetune(st, {"mnrl": rows}, tmp_path, opts)
    assert stats["steps"] == 2 and stats["loss"] > 0 and stats["chunk_rows"] == 3
    assert "forward" not in st[0].__dict__


@pytest.mark.parametrize("loss,anchor", [("gist", 0.0), ("mnrl", 3.0)])
def test_a_guide_runs_in_the_same_chunks_as_the_student(tmp_path: Path, monkeypatch, loss, anchor):
    """GIST's guide and the anchor's copy of the base (eval/anchor.py) are chunked like the student."""
    import datasets

    from synthir.eval import length_chunks
    from synthir.eval.harness import _load_model
    from synthir.eval.train import finetune

    seen: dict[int, int] = {}
    original = length_chunks.chunked_forward

    def spy(module, features, rows, **kwargs):
        seen[id(module)] = seen.get(id(module), 0) + 1
        return original(module, features, rows, **kwargs)

    monkeypatch.setattr(length_chunks, "chunked_forward", spy)
    st = _load_model("minilm", 64)
    rows = datasets.Dataset.from_dict({"anchor": [t.split()[0] + str(i) for i, t in enumerate(TEXTS)],
                                       "positive": TEXTS})
    opts = TrainOptions(max_steps=1, batch_size=8, chunk_rows=3, device="cpu", loss=loss,
                        anchor=anchor).for_student("minilm")
    stats = finetune(st, {loss: rows}, tmp_path, opts)
    assert stats["steps"] == 1
    # one step: the student's forward of each column, and the guide's (its own module, a copy)
    assert id(st[0]) in seen and len(seen) == 2, seen
    assert "forward" not in st[0].__dict__
