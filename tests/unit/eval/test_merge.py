"""`synthir eval-merge` (eval/merge.py): runs of one recipe in pieces give what one run over all
their seeds gives, with the scripted encoder of test_harness_flow (no real model)."""

from __future__ import annotations

import json

import pytest

from synthir.cli import main
from synthir.errors import InputError
from synthir.eval.harness import EvalOptions, run_eval
from synthir.eval.merge import merge_evals, merge_text
from synthir.eval.train import TrainOptions
from synthir.eval.versus import compare_evals
from tests.unit.eval.test_harness_flow import dirs, fakes  # noqa: F401  (fixtures)


def _run(dataset, beir, out, seeds, score_unseen="none", **train):
    return run_eval(dataset, beir, out, opts=TrainOptions(max_steps=1, **train),
                    eval_opts=EvalOptions(seeds=seeds, human_split=0.5, resamples=300, score_unseen=score_unseen))


def test_pieces_merge_into_the_one_run_over_all_seeds(dirs, fakes, tmp_path):  # noqa: F811
    dataset, beir = dirs
    whole = _run(dataset, beir, tmp_path / "whole", [0, 1, 2])
    _run(dataset, beir, tmp_path / "s0", [0])
    _run(dataset, beir, tmp_path / "s12", [1, 2])
    res = merge_evals([tmp_path / "s0", tmp_path / "s12"], tmp_path / "m", resamples=300)
    # every mean, spread, interval and the unseen-question block are those of the 3-seed run
    assert res["comparison"] == whole["comparison"]
    assert json.loads((tmp_path / "m" / "comparison.json").read_text()) == whole["comparison"]
    assert json.loads((tmp_path / "m" / "metrics.json").read_text()) == whole["metrics"]
    per = json.loads((tmp_path / "m" / "per_query.json").read_text())
    assert per["seeds"] == [0, 1, 2] and len(per["arms"]["synthetic"]) == 3 and len(per["arms"]["base"]) == 1
    assert [m.split("/")[1] for m in per["merged_from"]] == ["s0", "s12"] and len(per["unseen"]["synthetic"]) == 3
    merge = json.loads((tmp_path / "m" / "merge.json").read_text())
    assert merge["recipe_checked"] is True and merge["base_max_diff"] == 0
    # the merged dir is an eval dir for eval-compare: it pairs exactly with the 3-seed run
    r = compare_evals(tmp_path / "m", tmp_path / "whole", resamples=100)
    assert r["delta"]["mean"] == 0 and (r["runs_a"], r["runs_b"]) == (3, 3)
    text = merge_text(res)
    assert "seeds 0,1,2" in text and "synthetic-base" in text and "every unseen question" in text
    # the Multi-Bootstrap too (part of the comparison equal above): the merged seeds are resampled
    assert res["comparison"]["deltas_seeds"]["synthetic-base"]["all"]["seeds_a"] == 3
    assert res["comparison"]["unseen"]["delta_seeds"]["seeds_a"] == 3
    assert text.count("seeds resampled too") == len(res["comparison"]["deltas"]) + 1


def test_groups_and_the_recipe_are_recorded_without_local_paths(dirs, fakes, tmp_path):  # noqa: F811
    dataset, beir = dirs
    shown = tmp_path / "shown.jsonl"
    shown.write_text(json.dumps({"query": "nothing like a dev question"}) + "\n")
    _run(dataset, beir, tmp_path / "a", [0], score_unseen=shown)
    per = json.loads((tmp_path / "a" / "per_query.json").read_text())
    assert set(per["groups"]) >= {"all", "lang:en", "lang:fr"} and per["groups"]["all"] == per["test_qids"]
    assert per["training"]["rows"]["human"] > 0 and "seed" not in per["training"]["options"]
    # the synthetic data's fingerprint: pieces of one dataset pool with eval-merge, draws with --draws
    _run(dataset, beir, tmp_path / "b", [1])
    again = json.loads((tmp_path / "b" / "per_query.json").read_text())
    assert len(per["data_sha256"]) == 64 and again["data_sha256"] == per["data_sha256"]
    assert str(tmp_path) not in json.dumps(per["training"])  # the unseen file's path is not part of it
    assert set(per["unseen"]["base"]) == set(per["unseen"]["qids"]) and per["unseen"]["shown"] == 1


def test_pieces_of_different_recipes_or_seeds_are_refused(dirs, fakes, tmp_path, capsys):  # noqa: F811
    dataset, beir = dirs
    _run(dataset, beir, tmp_path / "s0", [0])
    _run(dataset, beir, tmp_path / "s1", [1])
    _run(dataset, beir, tmp_path / "again0", [0])
    _run(dataset, beir, tmp_path / "lr", [2], learning_rate=1e-3)
    run_eval(dataset, beir, tmp_path / "other-split", opts=TrainOptions(max_steps=1),
             eval_opts=EvalOptions(seeds=[3], human_split=0.5, human_seed=1, score_unseen="none"))
    with pytest.raises(InputError, match="seed 0 is in both"):
        merge_evals([tmp_path / "s0", tmp_path / "again0"], tmp_path / "x")
    with pytest.raises(InputError, match=r"another recipe .*differs in: learning_rate"):
        merge_evals([tmp_path / "s0", tmp_path / "lr"], tmp_path / "x")
    with pytest.raises(InputError, match="not tested on the same queries"):
        merge_evals([tmp_path / "s0", tmp_path / "other-split"], tmp_path / "x")
    with pytest.raises(InputError, match="at least two"):
        merge_evals([tmp_path / "s0"], tmp_path / "x")
    with pytest.raises(InputError, match="must not be one of"):
        merge_evals([tmp_path / "s0", tmp_path / "s1"], tmp_path / "s1")
    # another student: the base model's scores differ, caught even where no recipe was recorded
    per = json.loads((tmp_path / "s1" / "per_query.json").read_text())
    for scores in per["arms"]["base"][0].values():
        scores[per["test_qids"][0]] += 0.2
    del per["training"]
    (tmp_path / "s1" / "per_query.json").write_text(json.dumps(per))
    with pytest.raises(InputError, match="base model scores differently"):
        merge_evals([tmp_path / "s0", tmp_path / "s1"], tmp_path / "x")
    assert main(["eval-merge", str(tmp_path / "s0"), str(tmp_path / "again0"), "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err.strip()
    assert "seed 0 is in both" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "x").exists()  # nothing written for refused input


def test_old_runs_fall_back_to_eval_json_or_merge_unchecked(dirs, fakes, tmp_path, capsys):  # noqa: F811
    """Eval dirs written before per_query.json kept the recipe: eval.json beside it is read; a
    bare per_query.json (as benchmarks/results keeps them) merges with recipe_checked false."""
    dataset, beir = dirs
    _run(dataset, beir, tmp_path / "s0", [0])
    _run(dataset, beir, tmp_path / "s1", [1], epochs=2.0)
    for d in ("s0", "s1"):
        per = json.loads((tmp_path / d / "per_query.json").read_text())
        for key in ("training", "groups", "unseen"):
            del per[key]
        (tmp_path / d / "per_query.json").write_text(json.dumps(per))
    with pytest.raises(InputError, match="differs in: epochs"):
        merge_evals([tmp_path / "s0", tmp_path / "s1"], tmp_path / "x")
    for d in ("s0", "s1"):
        (tmp_path / d / "eval.json").unlink()
    assert main(["eval-merge", str(tmp_path / "s0"), str(tmp_path / "s1"), "--out", str(tmp_path / "m")]) == 0
    assert "recipe not checked" in capsys.readouterr().out
    comp = json.loads((tmp_path / "m" / "comparison.json").read_text())
    assert "unseen" not in comp and set(comp["arms"]["synthetic"]) == {"all"}
    assert comp["arms"]["synthetic"]["all"]["ndcg@10"]["n"] == 2


def test_a_run_recorded_before_train_shown_merges_with_a_new_one(dirs, fakes, tmp_path):  # noqa: F811
    """--train-shown came after runs had recorded their training: a record without it merges with
    a new one at its default (False), as a fresh draw of German set 2 had to with the older
    short-form draw; a run that trained on the shown examples is still another recipe."""
    dataset, beir = dirs
    _run(dataset, beir, tmp_path / "old", [0])
    _run(dataset, beir, tmp_path / "new", [1])
    per_path = tmp_path / "old" / "per_query.json"
    per = json.loads(per_path.read_text())
    per["training"]["options"].pop("train_shown", None)  # what a record from before the option holds
    per_path.write_text(json.dumps(per))
    assert "train_shown" not in json.loads((tmp_path / "new" / "per_query.json").read_text())["training"]["options"]
    new_path = tmp_path / "new" / "per_query.json"  # a record written while the default was stored explicitly
    new = json.loads(new_path.read_text())
    new["training"]["options"]["train_shown"] = False
    new_path.write_text(json.dumps(new))
    assert merge_evals([tmp_path / "old", tmp_path / "new"], tmp_path / "m", resamples=100)["merge"]["seeds"] == [0, 1]
    per["training"]["options"]["train_shown"] = True
    per_path.write_text(json.dumps(per))
    with pytest.raises(InputError, match=r"differs in: train_shown"):
        merge_evals([tmp_path / "old", tmp_path / "new"], tmp_path / "x")


def test_a_capped_run_is_another_recipe_and_the_cap_recorded_only_when_set(dirs, fakes, tmp_path):  # noqa: F811
    """--max-train-rows decides what is trained: a capped piece is refused beside an uncapped one;
    at its default (0) it is left out of the record, so runs recorded before the option existed
    still merge with new ones."""
    dataset, beir = dirs
    _run(dataset, beir, tmp_path / "s0", [0])
    _run(dataset, beir, tmp_path / "cap", [1], max_rows=2)
    opts = {d: json.loads((tmp_path / d / "per_query.json").read_text())["training"] for d in ("s0", "cap")}
    assert "max_rows" not in opts["s0"]["options"] and opts["cap"]["options"]["max_rows"] == 2
    assert opts["cap"]["rows"]["synthetic"] == 2 < opts["s0"]["rows"]["synthetic"]
    assert opts["cap"]["rows"]["human"] == opts["s0"]["rows"]["human"]  # the human arm is not capped
    with pytest.raises(InputError, match=r"differs in: rows, max_rows"):
        merge_evals([tmp_path / "s0", tmp_path / "cap"], tmp_path / "x")


def test_mini_batch_size_is_recipe_only_when_set(dirs, fakes, tmp_path):  # noqa: F811
    """--mini-batch-size came after runs had recorded their training: at its default (0) it is
    left out, so older records still merge; a GradCache run is refused beside a plain one (the
    same loss, but another run of the trainer)."""
    dataset, beir = dirs
    _run(dataset, beir, tmp_path / "s0", [0])
    _run(dataset, beir, tmp_path / "s1", [1], mini_batch_size=0)
    _run(dataset, beir, tmp_path / "mini", [2], mini_batch_size=2)
    opts = {d: json.loads((tmp_path / d / "per_query.json").read_text())["training"]["options"]
            for d in ("s1", "mini")}
    assert "mini_batch_size" not in opts["s1"] and opts["mini"]["mini_batch_size"] == 2
    assert merge_evals([tmp_path / "s0", tmp_path / "s1"], tmp_path / "m", resamples=100)["merge"]["seeds"] == [0, 1]
    with pytest.raises(InputError, match=r"differs in: mini_batch_size"):
        merge_evals([tmp_path / "s0", tmp_path / "mini"], tmp_path / "x")


def test_a_piece_that_kept_its_models_is_the_same_recipe(dirs, fakes, tmp_path):  # noqa: F811
    """--keep-models saves the students after training and changes nothing they learn: a draw run
    with it pools with one run without it (`eval-merge --draws` refused the R FAQ's two draws,
    docs/results.md §8bi; both merges read the recipe with `recorded_recipe`), and it is left out
    of the recorded recipe, though records written before 2026-12-07 hold it."""
    dataset, beir = dirs
    _run(dataset, beir, tmp_path / "s0", [0])
    _run(dataset, beir, tmp_path / "s1", [1])
    assert "keep_models" not in json.loads((tmp_path / "s1" / "per_query.json").read_text())["training"]["options"]
    per_path = tmp_path / "s0" / "per_query.json"
    per = json.loads(per_path.read_text())
    per["training"]["options"]["keep_models"] = True  # what a record written before 2026-12-07 holds
    per_path.write_text(json.dumps(per))
    assert merge_evals([tmp_path / "s0", tmp_path / "s1"], tmp_path / "m", resamples=100)["merge"]["seeds"] == [0, 1]
    per["training"]["options"]["learning_rate"] = 1.0  # a real recipe difference is still refused
    per_path.write_text(json.dumps(per))
    with pytest.raises(InputError, match=r"differs in: learning_rate"):
        merge_evals([tmp_path / "s0", tmp_path / "s1"], tmp_path / "x")
