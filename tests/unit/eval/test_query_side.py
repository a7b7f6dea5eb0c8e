"""Query-side fine-tuning (synthir.eval.query_side, `synthir eval --query-side`): a real MiniLM
fine-tune moves the query tower and leaves the document tower bit-identical to the base; the
saved model routes encode_query / encode_document; retrieval and the st embedder route by task;
bad combinations are one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from synthir.errors import ConfigError
from synthir.eval.train import TrainOptions
from tests.help_pairs import PAGES, QUERIES


def _minilm():
    from synthir.eval.harness import _load_model

    return _load_model("minilm", 64)


def _encode(model, texts, task=None):
    return model.encode(texts, normalize_embeddings=True, convert_to_tensor=True, task=task)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """(base, the trained two-tower student, its saved dir, finetune's stats)."""
    import datasets

    from synthir.eval.query_side import asymmetric
    from synthir.eval.train import finetune

    tmp = tmp_path_factory.mktemp("qside")
    base, st = _minilm(), asymmetric(_minilm())
    rows = datasets.Dataset.from_dict({"anchor": QUERIES, "positive": PAGES})
    opts = TrainOptions(max_steps=4, batch_size=8, learning_rate=5e-4, device="cpu", query_side=True,
                        chunk_rows=3).for_student("minilm")
    opts.check()
    stats = finetune(st, {"mnrl": rows}, tmp, opts, save_to=tmp / "model")
    return base, st, tmp / "model", stats


def test_only_the_query_tower_moves(trained):
    base, st, _, stats = trained
    assert stats["steps"] == 4
    assert torch.equal(_encode(base, PAGES), _encode(st, PAGES, "document"))  # passages: the base's, bit for bit
    moved = 1 - (_encode(base, QUERIES) * _encode(st, QUERIES, "query")).sum(dim=1)
    assert float(moved.mean()) > 1e-3
    documents = st[0].sub_modules["document"]
    assert not any(p.requires_grad for p in documents.parameters()) and not documents[0].training


def test_the_saved_model_routes_queries_and_documents(trained):
    from sentence_transformers import SentenceTransformer

    base, st, saved, _ = trained
    loaded = SentenceTransformer(str(saved), device="cpu")
    assert torch.allclose(loaded.encode_document(PAGES, convert_to_tensor=True, normalize_embeddings=True),
                          _encode(base, PAGES), atol=1e-6)
    assert torch.allclose(loaded.encode_query(QUERIES, convert_to_tensor=True, normalize_embeddings=True),
                          _encode(st, QUERIES, "query"), atol=1e-6)


def test_retrieval_and_the_embedder_route_by_task(trained, tmp_path: Path):
    from data_schemas.config import EmbedderConfig
    from synthir.embed.st import SentenceTransformerEmbedder
    from synthir.eval.query_side import asymmetric
    from synthir.eval.retrieval import retrieve
    from synthir.io.beir import BeirData

    base, st, saved, _ = trained
    corpus = {f"d{i}": {"title": "", "text": t} for i, t in enumerate(PAGES)}
    data = BeirData(corpus=corpus, queries={f"q{i}": q for i, q in enumerate(QUERIES)},
                    qrels={"test": {f"q{i}": {f"d{i}": 1} for i in range(len(QUERIES))}})
    two_bases = asymmetric(_minilm())  # untrained: both towers the base, so the same run as the base
    ours, theirs = retrieve(two_bases, data, "test", k=3), retrieve(base, data, "test", k=3)
    assert ours.keys() == theirs.keys()
    for q in ours:
        assert list(ours[q]) == list(theirs[q])
    embedder = SentenceTransformerEmbedder(EmbedderConfig(name="sentence-transformers", model=str(saved)))
    assert torch.allclose(torch.from_numpy(embedder.encode(PAGES, "passage")), _encode(base, PAGES).cpu(), atol=1e-5)
    assert torch.allclose(torch.from_numpy(embedder.encode(QUERIES, "query")),
                          _encode(st, QUERIES, "query").cpu(), atol=1e-5)


def test_query_side_is_checked_in_one_line():
    for bad in (TrainOptions(query_side=True, loss="gist", device="cpu"),
                TrainOptions(query_side=True, mini_batch_size=8, device="cpu"),
                TrainOptions(query_side=True, anchor=1.0, device="cpu"),
                TrainOptions(query_side=True, freeze_layers=2, device="cpu")):
        with pytest.raises(ConfigError, match="--query-side trains the plain mnrl loss"):
            bad.check()


def test_finetune_refuses_a_one_tower_model_for_query_side(tmp_path: Path):
    import datasets

    from synthir.eval.query_side import asymmetric
    from synthir.eval.train import finetune

    rows = datasets.Dataset.from_dict({"anchor": QUERIES[:2], "positive": PAGES[:2]})
    opts = TrainOptions(max_steps=1, batch_size=2, device="cpu", query_side=True).for_student("minilm")
    with pytest.raises(ValueError, match="query_side trains query_side.asymmetric"):
        finetune(_minilm(), {"mnrl": rows}, tmp_path, opts)
    with pytest.raises(ValueError, match="already routes"):
        asymmetric(asymmetric(_minilm()))


def test_the_flag_reaches_the_recipe_and_a_query_side_run_is_another_recipe():
    from synthir.cli import build_parser, train_options
    from synthir.eval.merge import training_record

    parse = build_parser().parse_args
    assert train_options(parse(["eval", "ds", "--beir", "b", "--out", "o"])).query_side is False
    assert train_options(parse(["eval", "ds", "--beir", "b", "--out", "o", "--query-side"])).query_side is True
    old = training_record("e5-small", {"synthetic": 3}, {"epochs": 3.0})
    assert old == training_record("e5-small", {"synthetic": 3}, {"epochs": 3.0, "query_side": False})
    assert old != training_record("e5-small", {"synthetic": 3}, {"epochs": 3.0, "query_side": True})



def test_a_saved_two_tower_model_is_refused_as_the_student_in_one_line(trained, tmp_path: Path):
    from synthir.eval.harness import run_eval
    from synthir.io.beir import write_beir
    from synthir.publish.hf import publish
    from tests.planted import make_planted_run

    _, _, saved, _ = trained
    cfg, paths, _, _ = make_planted_run(tmp_path / "data", dev_fraction=0.0)
    publish(cfg, paths)
    write_beir(tmp_path / "beir", [{"_id": "d0", "title": "", "text": "Press F2."}],
               [{"_id": "q0", "text": "rename a file"}], {"test": [("q0", "d0", 1)]})
    with pytest.raises(ConfigError, match="a two-tower \\(query-side\\) model"):
        run_eval(paths.root, tmp_path / "beir", tmp_path / "out", model=str(saved),
                 opts=TrainOptions(max_steps=1, device="cpu"))
