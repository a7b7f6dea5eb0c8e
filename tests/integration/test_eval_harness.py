"""`synthir dev-set` + `synthir eval` for real, small: the packaged MiniLM is evaluated on a
Wikipedia dev set (mono- and cross-lingual queries), fine-tuned on a published dataset, and
evaluated again; metrics come from ir-measures."""

from __future__ import annotations

import json

import pytest

from synthir.cli import main
from synthir.publish.hf import publish
from tests.planted import make_planted_run

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def devset(tmp_path_factory):
    out = tmp_path_factory.mktemp("dev") / "beir"
    assert main(["dev-set", "--langs", "en", "fr", "--out", str(out), "--queries-per-lang", "8",
                 "--cross-per-pair", "4", "--corpus-per-lang", "60", "--seed", "1"]) == 0
    return out


def test_dev_set_is_a_beir_dir_with_mono_and_cross_queries(devset):
    from synthir.io.beir import read_beir

    data = read_beir(devset)
    assert len(data.corpus) == 120 and len(data.queries) == 24
    [qrels] = data.qrels.values()
    for qid, rel in qrels.items():
        [(doc, grade)] = rel.items()
        assert grade == 1 and doc in data.corpus
        lang_q = json.loads(next(line for line in (devset / "queries.jsonl").open() if qid in line))["lang"]
        assert (data.corpus[doc]["lang"] != lang_q) == qid.startswith("x:")


def test_eval_base_vs_tuned(devset, tmp_path, capsys):
    cfg, paths, _, _ = make_planted_run(tmp_path / "data", dev_fraction=0.0)
    publish(cfg, paths)
    out = tmp_path / "eval"
    assert main(["eval", str(paths.root), "--beir", str(devset), "--out", str(out), "--batch-size", "4",
                 "--lr", "1e-3", "--epochs", "1", "--config", "auto"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics) == {"base", "tuned"}
    assert set(json.loads((out / "comparison.json").read_text())["deltas"]) == {"synthetic-base"}
    for side in metrics.values():
        assert set(side) == {"ndcg@10", "recall@100", "mrr@10"}
        assert all(0.0 <= v <= 1.0 for v in side.values())
    # known-item queries over 120 documents: the base model finds most in the top 100
    assert metrics["base"]["recall@100"] >= 0.5 and metrics["base"]["ndcg@10"] > 0.1
    groups = json.loads((out / "metrics_by_group.json").read_text())
    assert {"all", "mono", "cross", "lang:en", "lang:fr"} <= set(groups)
    info = json.loads((out / "eval.json").read_text())
    assert info["train_config"] == "triplets" and info["train_rows"] == 6 and info["train"]["steps"] == 2
    assert info["queries"] == {"all": 24, "mono": 16, "cross": 8, "lang:en": 12, "lang:fr": 12}
    import torch

    assert info["options"]["device"] == "auto" and info["device"] == ("cuda" if torch.cuda.is_available() else "cpu")
    printed = capsys.readouterr().out
    assert "synthetic-base" in printed and "cross" in printed and "metrics written to" in printed
    assert "95% CI" in printed and "human" not in printed

    from sentence_transformers import SentenceTransformer

    from synthir.embed.st import model_source

    base, tuned = SentenceTransformer(model_source("minilm")), SentenceTransformer(str(out / "model"))
    a, b = base.encode(["when was it built"]), tuned.encode(["when was it built"])
    assert abs(a - b).max() > 1e-4  # the saved model is the fine-tuned one


def test_eval_trains_one_student_on_several_datasets(devset, tmp_path):
    """Two published datasets (e.g. one per language): the synthetic arm trains on the rows of
    both, for real, and eval.json names both."""
    roots = []
    for name in ("a", "b"):
        cfg, paths, _, _ = make_planted_run(tmp_path / name, dev_fraction=0.0)
        publish(cfg, paths)
        roots.append(paths.root)
    out = tmp_path / "eval"
    assert main(["eval", *map(str, roots), "--beir", str(devset), "--out", str(out), "--batch-size", "4",
                 "--lr", "1e-3", "--epochs", "1", "--config", "pairs"]) == 0
    info = json.loads((out / "eval.json").read_text())
    assert info["dataset"] == [str(r) for r in roots]
    assert info["train_rows"] == 8 and info["train"]["steps"] == 2  # 4 pairs each, batches of 4
    assert set(json.loads((out / "metrics.json").read_text())) == {"base", "tuned"}


def test_eval_input_errors_are_one_line(devset, tmp_path, capsys):
    assert main(["eval", str(tmp_path), "--beir", str(devset), "--out", str(tmp_path / "e")]) == 2
    assert "not a published synthir dataset" in capsys.readouterr().err
    cfg, paths, _, _ = make_planted_run(tmp_path / "data")
    publish(cfg, paths)
    assert main(["eval", str(paths.root), "--beir", str(tmp_path / "nope"), "--out", str(tmp_path / "e")]) == 2
    assert "is not a BEIR dir" in capsys.readouterr().err
    import torch

    if not torch.cuda.is_available():  # asked for a GPU that is not there: one line, before any model
        assert main(["eval", str(paths.root), "--beir", str(devset), "--out", str(tmp_path / "e"),
                     "--device", "cuda"]) == 2
        err = capsys.readouterr().err
        assert "--device cuda" in err and "sees no CUDA device" in err and len(err.strip().splitlines()) == 1
        assert not (tmp_path / "e").exists()


def test_eval_seeds_human_arm_and_both_losses(devset, tmp_path, capsys):
    """Two seeds, a human arm on half the dev queries, MNRL + MarginMSE on a planted `distill`
    config: one real step per fine-tune."""
    from synthir.eval.human import split_queries
    from synthir.io.beir import read_beir
    from tests.planted_distill import add_distill_config, distill_rows_from_triplets

    cfg, paths, _, _ = make_planted_run(tmp_path / "data", dev_fraction=0.0)
    publish(cfg, paths)
    add_distill_config(paths.root, distill_rows_from_triplets(paths.root))
    out = tmp_path / "eval"
    assert main(["eval", str(paths.root), "--beir", str(devset), "--out", str(out), "--batch-size", "4",
                 "--lr", "1e-3", "--max-steps", "1", "--seeds", "0,1", "--human-split", "0.5",
                 "--loss", "mnrl+marginmse", "--bootstrap", "200", "--config", "auto", "--keep-models"]) == 0
    info = json.loads((out / "eval.json").read_text())
    hs = info["human_split"]
    data = read_beir(devset)
    split = split_queries(list(data.qrels["test"]), 0.5, 0)
    assert (hs["train_queries"], hs["test_queries"]) == (len(split.train), len(split.test))
    assert info["queries"]["all"] == len(split.test)
    assert hs["train_pairs"] + hs["train_queries_dropped_as_duplicate_text"] == len(split.train)
    syn, hum = info["training"]["synthetic"], info["training"]["human"]
    assert syn["loss"] == "mnrl+marginmse" and syn["rows"] == 12 and hum["loss"] == "mnrl"
    assert [r["seed"] for r in syn["runs"]] == [0, 1] and all(r["steps"] == 1 for r in syn["runs"] + hum["runs"])
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics) == {"base", "tuned", "human"}
    comp = json.loads((out / "comparison.json").read_text())
    for pair in ("synthetic-base", "human-base", "synthetic-human"):
        d = comp["deltas"][pair]["all"]
        assert d["n_queries"] == len(split.test) and d["ci_low"] <= d["mean"] <= d["ci_high"]
    assert comp["arms"]["human"]["all"]["ndcg@10"]["n"] == 2
    printed = capsys.readouterr().out
    assert "human-base" in printed and "human split 0.5" in printed and "95% CI" in printed
    assert (out / "model").is_dir() and (out / "model-human").is_dir()
    per = json.loads((out / "per_query.json").read_text())
    assert sorted(per["test_qids"]) == sorted(split.test) and len(per["arms"]["human"]) == 2
    assert main(["eval-compare", str(out), str(out), "--arm", "human"]) == 0
    assert "A - B +0.0000" in capsys.readouterr().out
    # --keep-models: seed 1's students too; benchmarks/soup.py --seeds averages them (real models)
    assert (out / "model-seed1").is_dir() and (out / "model-human-seed1").is_dir()
    from tests.benchmark_scripts import load_benchmark

    r = load_benchmark("soup").seed_soup(out, resamples=50, fewshot="none")
    assert r["seeds"] == [0, 1] and r["max_drift_from_eval_per_query"] < 1e-3  # rescored as the eval scored
    assert {"seed 0", "seed 1", "soup", "human soup"} <= set(r["per_question"])
    assert r["test_half"]["soup_vs_human_soup"]["delta"]["n_queries"] == len(split.test)


def test_marginmse_alone_trains_on_the_planted_distill_config(tmp_path):
    """--loss marginmse: MarginMSELoss on (query, positive, negative, label), one real step."""
    import numpy as np

    from synthir.eval.harness import _load_model
    from synthir.eval.train import TrainOptions, finetune
    from synthir.eval.train_data import load_training
    from tests.planted_distill import add_distill_config, distill_rows_from_triplets

    cfg, paths, _, _ = make_planted_run(tmp_path / "data", dev_fraction=0.0)
    publish(cfg, paths)
    add_distill_config(paths.root, distill_rows_from_triplets(paths.root))
    opts = TrainOptions(loss="marginmse", max_steps=1, batch_size=4, learning_rate=1e-3)
    sets = load_training(paths.root, opts)
    assert {k: (c, len(rows)) for k, (c, rows) in sets.items()} == {"marginmse": ("distill", 6)}
    st = _load_model("minilm")
    before = st.encode(["passage p0 text"])
    stats = finetune(st, {k: rows for k, (_, rows) in sets.items()}, tmp_path, opts, save_to=tmp_path / "m")
    assert stats["steps"] == 1 and stats["loss"] > 0
    assert np.abs(before - st.encode(["passage p0 text"])).max() > 1e-4 and (tmp_path / "m").is_dir()


def test_bf16_trains_one_real_step_in_mixed_precision(tmp_path, monkeypatch):
    """--precision bf16: the trainer is asked for bf16 autocast and one real step moves the
    student, whose weights stay fp32 (only a CPU with native bf16 runs it)."""
    import numpy as np
    import sentence_transformers
    import torch

    from synthir.eval.harness import _load_model
    from synthir.eval.train import TrainOptions, finetune, native_bf16_cpu
    from synthir.eval.train_data import load_training

    if not native_bf16_cpu() and not torch.cuda.is_available():
        pytest.skip("no native bf16 on this CPU: --precision bf16 is refused here (unit-tested)")
    seen = []

    class Recording(sentence_transformers.SentenceTransformerTrainer):
        def __init__(self, *a, **k):
            seen.append(k["args"])
            super().__init__(*a, **k)

    monkeypatch.setattr(sentence_transformers, "SentenceTransformerTrainer", Recording)
    cfg, paths, _, _ = make_planted_run(tmp_path / "data", dev_fraction=0.0)
    publish(cfg, paths)
    opts = TrainOptions(loss="mnrl", config="pairs", max_steps=1, batch_size=4, learning_rate=1e-3,
                        mnrl_scale=20.0, precision="bf16")
    sets = load_training(paths.root, opts)
    st = _load_model("minilm")
    before = st.encode(["passage p0 text"])
    stats = finetune(st, {k: rows for k, (_, rows) in sets.items()}, tmp_path, opts, save_to=tmp_path / "m")
    assert [a.bf16 for a in seen] == [True]
    assert stats["steps"] == 1 and stats["loss"] > 0
    assert next(st.parameters()).dtype == torch.float32
    texts = ["passage p0 text", "what is the capital of france", "un texte en français assez long"]
    tuned = st.encode(texts)
    assert np.abs(before[0] - tuned[0]).max() > 1e-4
    # scored in fp32 as it was saved: the trainer's autocast wrapper is off (it left up to 8e-4)
    assert "_original_forward" not in st.__dict__
    assert np.abs(tuned - _load_model(str(tmp_path / "m")).encode(texts)).max() < 1e-5


def test_gist_guide_is_a_frozen_copy_and_one_real_step_trains(tmp_path):
    """--loss gist: GISTEmbedLoss with the untrained student as guide (temperature 1 / scale); one
    real step moves the student and leaves the guide as it was."""
    import numpy as np
    from sentence_transformers.sentence_transformer.losses import GISTEmbedLoss

    from synthir.eval.harness import _load_model
    from synthir.eval.train import TrainOptions, _loss, finetune
    from synthir.eval.train_data import load_training

    cfg, paths, _, _ = make_planted_run(tmp_path / "data", dev_fraction=0.0)
    publish(cfg, paths)
    opts = TrainOptions(loss="gist", max_steps=1, batch_size=4, learning_rate=1e-3, mnrl_scale=50.0)
    st = _load_model("minilm")
    loss = _loss("gist", st, opts)
    assert isinstance(loss, GISTEmbedLoss) and loss.guide is not st and loss.temperature == pytest.approx(0.02)
    assert not any(p.requires_grad for p in loss.guide.parameters())
    before = st.encode(["passage p0 text"])
    sets = load_training(paths.root, opts)
    stats = finetune(st, {k: rows for k, (_, rows) in sets.items()}, tmp_path, opts)
    assert stats["steps"] == 1 and stats["loss"] > 0
    assert np.abs(before - st.encode(["passage p0 text"])).max() > 1e-4
    assert np.abs(before - loss.guide.encode(["passage p0 text"])).max() < 1e-6


def test_topic_batching_clusters_with_the_base_student_and_trains(tmp_path):
    """--batching topic: the trainer's sampler clusters the queries with the untrained student
    (FAISS k-means) and yields cluster-ordered batches without a shared text; one real epoch
    trains the student."""
    from dataclasses import replace

    import numpy as np

    from synthir.eval.harness import _load_model
    from synthir.eval.train import TrainOptions, _sampler, finetune
    from synthir.eval.train_data import load_training

    cfg, paths, _, _ = make_planted_run(tmp_path / "data", dev_fraction=0.0)
    publish(cfg, paths)
    opts = TrainOptions(loss="mnrl", config="pairs", epochs=1, batch_size=1, learning_rate=1e-3,
                        mnrl_scale=20.0, batching="topic")
    [(config, rows)] = load_training(paths.root, opts).values()
    st = _load_model("minilm")
    sampler = _sampler(st, opts)(rows, batch_size=1, drop_last=False, valid_label_columns=["label"], seed=0)
    assert len(rows) == 4 and sampler.num_topics == 2  # ceil(rows / (2 x batch)) clusters
    batches = list(sampler)
    assert len(batches) == len(sampler) and sorted(i for b in batches for i in b) == list(range(len(rows)))
    for b in batches:
        texts = [t for i in b for t in sampler.texts[i]]
        assert len(texts) == len(set(texts))
    before = st.encode(["passage p0 text"])
    stats = finetune(st, {"mnrl": rows}, tmp_path, replace(opts, batch_size=2))  # MNRL needs 2 rows a batch
    assert stats["steps"] == 2 and stats["loss"] > 0
    assert np.abs(before - st.encode(["passage p0 text"])).max() > 1e-4


def test_train_shown_trains_the_synthetic_arm_on_the_shown_examples_too(devset, tmp_path, capsys):
    """`--train-shown` for real: one shown human-train question joins the synthetic arm's pairs
    (one real step), is left out of the unseen questions, and a shown test question is a
    one-line error."""
    from datasets import load_dataset

    from synthir.eval.human import split_queries
    from synthir.io.beir import read_beir

    cfg, paths, _, _ = make_planted_run(tmp_path / "data", dev_fraction=0.0)
    publish(cfg, paths)
    data = read_beir(devset)
    split = split_queries(list(data.qrels["test"]), 0.5, 0)
    shown, leak = tmp_path / "shown.jsonl", tmp_path / "leak.jsonl"
    shown.write_text(json.dumps({"passage": "p", "query": data.queries[split.train[0]]}) + "\n")
    leak.write_text(json.dumps({"passage": "p", "query": data.queries[split.test[0]]}) + "\n")
    args = ["eval", str(paths.root), "--beir", str(devset), "--batch-size", "4", "--lr", "1e-3", "--max-steps", "1",
            "--seeds", "0", "--human-split", "0.5", "--bootstrap", "50", "--config", "pairs", "--train-shown"]
    out = tmp_path / "eval"
    assert main([*args, "--out", str(out), "--score-unseen", str(shown)]) == 0
    info = json.loads((out / "eval.json").read_text())
    pairs = len(load_dataset(str(paths.root), "pairs", split="train"))
    assert info["train_rows_shown_examples"] == 1 and info["training"]["synthetic"]["rows"] == pairs + 1
    assert info["training"]["human"]["rows"] == info["human_split"]["train_pairs"]
    assert json.loads((out / "comparison.json").read_text())["unseen"]["left_out"] >= 1
    capsys.readouterr()
    assert main([*args, "--out", str(tmp_path / "bad"), "--score-unseen", str(leak)]) == 2
    err = capsys.readouterr().err.strip()
    assert "not human-train questions" in err and len(err.splitlines()) == 1


def test_mini_batch_size_gives_gradcache_with_the_plain_loss_and_gradients(tmp_path):
    """--mini-batch-size: mnrl and gist become their GradCache forms. With dropout
    off, the cached MNRL's loss and every parameter's gradient over one batch equal plain MNRL's; a real
    fine-tune step with it moves the student."""
    import numpy as np
    import torch
    from sentence_transformers.sentence_transformer.losses import (CachedGISTEmbedLoss,
                                                                   CachedMultipleNegativesRankingLoss,
                                                                   MultipleNegativesRankingLoss)

    from synthir.eval.harness import _load_model
    from synthir.eval.train import TrainOptions, _loss, finetune
    from synthir.eval.train_data import load_training

    st = _load_model("minilm")
    st.eval()  # dropout off: the two losses see the same activations
    queries = [f"how do I {w} a file" for w in ("open", "close", "copy", "move", "rename", "print")]
    passages = [f"To {w} a file, choose {w.title()} in the File menu." for w in
                ("open", "close", "copy", "move", "rename", "print")]

    def grads(loss: torch.nn.Module) -> tuple[float, dict[str, torch.Tensor]]:
        st.zero_grad()
        feats = [st.tokenize(queries), st.tokenize(passages)]
        value = loss(feats, torch.tensor([]))
        value.backward()
        return value.item(), {n: p.grad.clone() for n, p in st.named_parameters() if p.grad is not None}

    opts = TrainOptions(batch_size=6, mini_batch_size=2, mnrl_scale=20.0)
    cached = _loss("mnrl", st, opts)
    assert isinstance(cached, CachedMultipleNegativesRankingLoss) and cached.mini_batch_size == 2
    plain = _loss("mnrl", st, TrainOptions(batch_size=6, mnrl_scale=20.0))
    assert type(plain) is MultipleNegativesRankingLoss
    assert type(_loss("mnrl", st, TrainOptions(batch_size=2, mini_batch_size=2, mnrl_scale=20.0))) \
        is MultipleNegativesRankingLoss  # a mini-batch as large as the batch caches nothing
    gist = _loss("gist", st, opts)  # GIST's cached form, with the same frozen guide and temperature
    assert isinstance(gist, CachedGISTEmbedLoss) and gist.mini_batch_size == 2
    assert gist.temperature == pytest.approx(0.05) and not any(p.requires_grad for p in gist.guide.parameters())
    v_plain, g_plain = grads(plain)
    v_cached, g_cached = grads(cached)
    assert v_cached == pytest.approx(v_plain, rel=1e-5) and v_plain > 0
    assert g_plain.keys() == g_cached.keys() and len(g_plain) > 10
    for name, g in g_plain.items():
        assert torch.allclose(g, g_cached[name], atol=1e-6, rtol=1e-4), name

    cfg, paths, _, _ = make_planted_run(tmp_path / "data", dev_fraction=0.0)
    publish(cfg, paths)
    opts = TrainOptions(max_steps=1, batch_size=4, mini_batch_size=2, learning_rate=1e-3, mnrl_scale=20.0)
    before = st.encode(["passage p0 text"])
    sets = load_training(paths.root, opts)
    stats = finetune(st, {k: rows for k, (_, rows) in sets.items()}, tmp_path, opts)
    assert stats["steps"] == 1 and stats["loss"] > 0
    assert np.abs(before - st.encode(["passage p0 text"])).max() > 1e-4
