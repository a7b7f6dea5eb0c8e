"""`run_eval` control flow with a scripted encoder and a recording fine-tune (no real model):
seeds, the human arm trained on train queries only, every arm scored on the same test
queries, and the output files."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from synthir.eval import harness
from synthir.eval.harness import EvalOptions, run_eval
from synthir.eval.train import TrainOptions
from synthir.io.beir import write_beir
from synthir.publish.hf import publish
from tests.planted import make_planted_run

N = 40


class HashEncoder:
    """Deterministic pseudo-random unit vectors from (text, tuning); a document and its query
    share their topic number, so `strength` (raised by fine-tuning) pulls them together."""

    def __init__(self) -> None:
        self.strength = 0.0
        self.trained: list[tuple[str, int, list[str]]] = []

    def encode(self, texts, **kwargs):
        out = []
        for t in texts:
            h = int.from_bytes(hashlib.sha256(f"{t}|{self.strength}".encode()).digest()[:4], "big")
            v = np.random.default_rng(h).normal(size=N + 8)
            topic = int(t.split("topic ")[1].split()[0]) if "topic " in t else None
            if topic is not None:
                v[topic] += self.strength
            out.append(v / np.linalg.norm(v))
        return np.array(out, dtype=np.float32)


@pytest.fixture(scope="module")
def dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("flow")
    cfg, paths, _, _ = make_planted_run(root / "data", dev_fraction=0.0)
    publish(cfg, paths)
    corpus = [{"_id": f"d{i}", "title": "", "text": f"doc topic {i} body", "lang": "en" if i % 2 else "fr"}
              for i in range(N)]
    queries = [{"_id": f"q{i}", "text": f"what about topic {i} ?", "lang": "en" if i % 2 else "fr"}
               for i in range(N)]
    write_beir(root / "beir", corpus, queries, {"test": [(f"q{i}", f"d{i}", 1) for i in range(N)]})
    return paths.root, root / "beir"


@pytest.fixture()
def fakes(monkeypatch):
    calls = {"loaded": 0, "trained": [], "saved": [], "recipes": []}

    def load(name, max_seq_length=None, device="cpu"):
        calls["loaded"] += 1
        calls.setdefault("devices", set()).add(device)
        return HashEncoder()

    def finetune(model, sets, work_dir, opts, save_to=None):
        texts = [t for rows in sets.values()
                 for t in rows["anchor" if "anchor" in rows.column_names else "query"]]
        calls["trained"].append((opts.seed, opts.loss, sorted(sets), texts))
        calls["saved"].append(save_to.name if save_to else None)
        calls["recipes"].append((opts.learning_rate, opts.mnrl_scale))
        model.strength = 1.0 + opts.seed  # a seed-dependent, real change of the rankings
        return {"steps": 1, "loss": 0.1 * (opts.seed + 1), "seconds": 0.0}

    monkeypatch.setattr(harness, "_load_model", load)
    monkeypatch.setattr(harness, "finetune", finetune)
    return calls


def test_seeds_and_human_arm(dirs, fakes, tmp_path):
    dataset, beir = dirs
    out = tmp_path / "eval"
    res = run_eval(dataset, beir, out, opts=TrainOptions(max_steps=1, device="cpu"),
                   eval_opts=EvalOptions(seeds=[0, 1, 2], human_split=0.5, resamples=200))
    assert fakes["loaded"] == 1 + 3 + 3  # base once, then a fresh model per seed and arm
    assert fakes["devices"] == {"cpu"} and res["info"]["device"] == "cpu"  # every arm where it was asked
    assert [(s, loss, names) for s, loss, names, _ in fakes["trained"]] == (
        [(s, "mnrl", ["mnrl"]) for s in (0, 1, 2)] * 2)
    assert fakes["saved"] == ["model", None, None, "model-human", None, None]
    info = res["info"]
    hs = info["human_split"]
    assert hs["train_queries"] + hs["test_queries"] == N and info["queries"]["all"] == hs["test_queries"]
    # the human arm trained on train queries only; none is a test query
    human_texts = set(fakes["trained"][3][3])
    test_texts = {f"what about topic {q[1:]} ?" for q in _test_ids(res)}
    assert len(test_texts) == hs["test_queries"]
    assert human_texts and not human_texts & test_texts and len(human_texts) == hs["train_queries"]
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics) == {"base", "tuned", "human"}
    comp = json.loads((out / "comparison.json").read_text())
    assert set(comp["arms"]) == {"base", "synthetic", "human"}
    assert comp["arms"]["synthetic"]["all"]["ndcg@10"]["n"] == 3
    assert comp["arms"]["base"]["all"]["ndcg@10"]["n"] == 1
    assert metrics["tuned"]["ndcg@10"] == comp["arms"]["synthetic"]["all"]["ndcg@10"]["mean"]
    assert set(comp["deltas"]) == {"synthetic-base", "human-base", "synthetic-human"}
    for d in comp["deltas"].values():
        assert d["all"]["n_queries"] == hs["test_queries"] and d["all"]["ci_low"] <= d["all"]["ci_high"]
    # the fake tuning pulls each query to its document: a clear, bootstrap-certain gain
    assert comp["deltas"]["synthetic-base"]["all"]["ci_low"] > 0
    groups = json.loads((out / "metrics_by_group.json").read_text())
    assert {"all", "mono", "lang:en", "lang:fr"} <= set(groups)
    assert set(groups["all"]) == {"base", "tuned", "human"}
    assert info["queries"]["lang:en"] + info["queries"]["lang:fr"] == hs["test_queries"]
    # same options, same numbers
    again = run_eval(dataset, beir, tmp_path / "again", opts=TrainOptions(max_steps=1),
                     eval_opts=EvalOptions(seeds=[0, 1, 2], human_split=0.5, resamples=200))
    assert again["comparison"] == res["comparison"]


def test_keep_models_saves_every_seeds_students(dirs, fakes, tmp_path):
    dataset, beir = dirs
    run_eval(dataset, beir, tmp_path / "eval", opts=TrainOptions(max_steps=1, device="cpu"),
             eval_opts=EvalOptions(seeds=[0, 3], human_split=0.5, resamples=50, keep_models=True))
    assert fakes["saved"] == ["model", "model-seed3", "model-human", "model-human-seed3"]
    assert harness.model_dir(tmp_path, "human", 1, 3, False) is None  # without the option: the first seed only
    (tmp_path / "eval" / "model-seed7").mkdir()  # an earlier run's student
    (tmp_path / "eval" / "model-seed-notes").mkdir()  # not a name the eval writes: left alone
    run_eval(dataset, beir, tmp_path / "eval", opts=TrainOptions(max_steps=1, device="cpu"),
             eval_opts=EvalOptions(seeds=[0, 3], human_split=0.5, resamples=50))
    assert sorted(d.name for d in (tmp_path / "eval").glob("model*-seed*")) == ["model-seed-notes"]


def test_gist_trains_both_arms_with_the_guided_loss(dirs, fakes, tmp_path):
    """--loss gist is a pairs loss: the human arm gets it too (the same recipe on both arms)."""
    dataset, beir = dirs
    res = run_eval(dataset, beir, tmp_path / "eval", opts=TrainOptions(max_steps=1, loss="gist"),
                   eval_opts=EvalOptions(seeds=[0], human_split=0.5, resamples=200))
    assert [(s, loss, names) for s, loss, names, _ in fakes["trained"]] == [(0, "gist", ["gist"])] * 2
    assert {a: t["loss"] for a, t in res["info"]["training"].items()} == {"synthetic": "gist", "human": "gist"}


def _test_ids(res):
    """Test query ids, from the scored queries of the comparison (every arm's n_queries)."""
    from synthir.eval.human import split_queries

    hs = res["info"]["human_split"]
    return split_queries([f"q{i}" for i in range(N)], hs["fraction"], hs["seed"]).test


def test_without_human_split_every_judged_query_is_scored(dirs, fakes, tmp_path):
    dataset, beir = dirs
    res = run_eval(dataset, beir, tmp_path / "e", opts=TrainOptions(max_steps=1, seed=4))
    assert res["info"]["seeds"] == [4] and res["info"]["queries"]["all"] == N
    assert set(res["metrics"]) == {"base", "tuned"} and set(res["comparison"]["deltas"]) == {"synthetic-base"}
    assert [t[0] for t in fakes["trained"]] == [4] and res["info"]["train"]["steps"] == 1
    assert res["info"]["synthetic_rows_matching_a_test_query"] == 0


def test_bad_eval_options(dirs, tmp_path):
    from synthir.errors import ConfigError

    dataset, beir = dirs
    bads = ((EvalOptions(seeds=[]), "--seeds"), (EvalOptions(seeds=[1, 1]), "--seeds"),
            (EvalOptions(human_split=1.0), "--human-split"), (EvalOptions(resamples=0), "--bootstrap"))
    for bad, flag in bads:
        with pytest.raises(ConfigError, match=flag):
            run_eval(dataset, beir, tmp_path / "x", eval_opts=bad)
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("model, opts, recipe", [
    ("e5-small", TrainOptions(max_steps=1), (2e-5, 100.0)), ("minilm", TrainOptions(max_steps=1), (1e-4, 20.0)),
    ("e5-small", TrainOptions(max_steps=1, learning_rate=3e-5), (3e-5, 100.0))])
def test_in_process_eval_gets_the_students_recipe(dirs, fakes, tmp_path, model, opts, recipe):
    """run_eval fills an unset lr / MNRL scale from the student, as `synthir eval` does, for
    both arms, and records the recipe it used."""
    dataset, beir = dirs
    res = run_eval(dataset, beir, tmp_path / "e", model=model, opts=opts,
                   eval_opts=EvalOptions(human_split=0.5, resamples=50))
    assert fakes["recipes"] == [recipe, recipe]  # synthetic, human
    options = res["info"]["options"]
    assert (options["learning_rate"], options["mnrl_scale"]) == recipe


def test_score_unseen_adds_the_train_questions_never_shown(dirs, fakes, tmp_path):
    """--score-unseen: synthetic − base also over the human-train questions not shown to the
    generator; everything scored on the test half stays as it was."""
    from synthir.eval.human import split_queries

    dataset, beir = dirs
    train = split_queries([f"q{i}" for i in range(N)], 0.5, 0).train
    shown = tmp_path / "shown.jsonl"
    shown.write_text(json.dumps({"passage": "p", "query": f"  WHAT about topic {train[0][1:]} ?"}) + "\n\n")
    eo = dict(seeds=[0, 1, 2], human_split=0.5, resamples=200)
    plain = run_eval(dataset, beir, tmp_path / "plain", opts=TrainOptions(max_steps=1), eval_opts=EvalOptions(**eo))
    res = run_eval(dataset, beir, tmp_path / "u", opts=TrainOptions(max_steps=1),
                   eval_opts=EvalOptions(**eo, score_unseen=shown))
    u = res["comparison"].pop("unseen")
    assert res["comparison"] == plain["comparison"]  # the test-half numbers are untouched
    assert (u["train_queries"], u["left_out"], u["shown"]) == (len(train), 1, 1)
    assert u["queries"] == N - 1 and u["test_queries"] == N - len(train)
    assert u["delta"]["n_queries"] == N - 1 and u["delta"]["ci_low"] > 0  # the fake tuning helps everywhere
    per = json.loads((tmp_path / "u" / "per_query.json").read_text())
    assert all(set(r["ndcg@10"]) == set(per["test_qids"]) for runs in per["arms"].values() for r in runs)
    assert json.loads((tmp_path / "u" / "comparison.json").read_text())["unseen"] == u
    assert json.loads((tmp_path / "u" / "eval.json").read_text())["options"]["score_unseen"] == str(shown)
    nothing = run_eval(dataset, beir, tmp_path / "n", opts=TrainOptions(max_steps=1),
                       eval_opts=EvalOptions(**eo, score_unseen="none"))
    assert nothing["comparison"]["unseen"]["left_out"] == 0 and nothing["comparison"]["unseen"]["queries"] == N


def test_score_unseen_errors_come_before_any_model(dirs, fakes, tmp_path):
    from synthir.errors import ConfigError, InputError

    dataset, beir = dirs
    with pytest.raises(ConfigError, match="--score-unseen needs --human-split"):
        run_eval(dataset, beir, tmp_path / "a", eval_opts=EvalOptions(score_unseen="none"))
    with pytest.raises(InputError, match="no such file"):
        run_eval(dataset, beir, tmp_path / "b", eval_opts=EvalOptions(human_split=0.5, score_unseen=tmp_path / "x"))
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"query": "ok"}\n{"passage": "no query"}\n')
    with pytest.raises(InputError, match="line 2"):
        run_eval(dataset, beir, tmp_path / "c", eval_opts=EvalOptions(human_split=0.5, score_unseen=bad))
    assert fakes["loaded"] == 0


def test_score_unseen_leaves_out_a_train_question_worded_as_a_test_one(dirs, fakes, tmp_path):
    from synthir.eval.human import split_queries

    dataset, _ = dirs
    hs = split_queries([f"q{i}" for i in range(N)], 0.5, 0)
    twin_of = {hs.train[2]: hs.test[0]}  # a train question asked in the same words as a test one
    text = {q: f"what about topic {q[1:]} ?" for q in (f"q{i}" for i in range(N))}
    queries = [{"_id": q, "text": text[twin_of.get(q, q)]} for q in text]
    write_beir(tmp_path / "beir", [{"_id": f"d{i}", "title": "", "text": f"doc topic {i} body"} for i in range(N)],
               queries, {"test": [(f"q{i}", f"d{i}", 1) for i in range(N)]})
    res = run_eval(dataset, tmp_path / "beir", tmp_path / "e", opts=TrainOptions(max_steps=1),
                   eval_opts=EvalOptions(human_split=0.5, resamples=50, score_unseen="none"))
    u = res["comparison"]["unseen"]
    assert (u["left_out"], u["queries"]) == (1, N - 1)


def test_train_shown_adds_the_shown_examples_to_the_synthetic_arm_only(dirs, fakes, tmp_path):
    """--train-shown: the shown human-train questions join the synthetic arm's pairs, each with
    its judged page; the human arm and the test half are untouched; a shown test question, a
    missing file or a loss without pairs is a one-line error before any model."""
    from datasets import load_dataset

    from synthir.errors import ConfigError, InputError
    from synthir.eval.human import split_queries

    dataset, beir = dirs
    hs = split_queries([f"q{i}" for i in range(N)], 0.5, 0)
    shown = tmp_path / "shown.jsonl"
    shown.write_text("".join(json.dumps({"passage": "cut …", "query": f"What about topic {q[1:]} ?"}) + "\n"
                             for q in hs.train[:2]))
    eo = dict(seeds=[0], human_split=0.5, resamples=50, score_unseen=shown)
    res = run_eval(dataset, beir, tmp_path / "t", opts=TrainOptions(max_steps=1),
                   eval_opts=EvalOptions(**eo, train_shown=True))
    synthetic, human = fakes["trained"][0][3], fakes["trained"][1][3]
    published = load_dataset(str(dataset), "pairs", split="train")["query"]
    assert synthetic[:len(published)] == published  # every synthetic pair, then the shown ones
    assert synthetic[len(published):] == [f"what about topic {q[1:]} ?" for q in hs.train[:2]]
    assert len(human) == len(hs.train)
    assert res["info"]["train_rows_shown_examples"] == 2 and res["info"]["train_rows"] == len(published) + 2
    assert res["info"]["options"]["train_shown"] is True
    assert res["comparison"]["unseen"]["left_out"] == 2  # shown questions are never scored as unseen
    fakes["loaded"] = 0
    leak = tmp_path / "leak.jsonl"
    leak.write_text(json.dumps({"query": f"what about topic {hs.test[0][1:]} ?"}) + "\n")
    with pytest.raises(InputError, match="not human-train questions"):
        run_eval(dataset, beir, tmp_path / "a", eval_opts=EvalOptions(**{**eo, "score_unseen": leak}, train_shown=True))
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    with pytest.raises(InputError, match="holds no question"):
        run_eval(dataset, beir, tmp_path / "e", eval_opts=EvalOptions(**{**eo, "score_unseen": empty}, train_shown=True))
    with pytest.raises(ConfigError, match="--train-shown needs --score-unseen"):
        run_eval(dataset, beir, tmp_path / "b", eval_opts=EvalOptions(human_split=0.5, score_unseen="none",
                                                                      train_shown=True))
    with pytest.raises(ConfigError, match="use a loss with MNRL"):
        run_eval(dataset, beir, tmp_path / "c", opts=TrainOptions(max_steps=1, loss="marginmse"),
                 eval_opts=EvalOptions(**eo, train_shown=True))
    assert fakes["loaded"] == 0
