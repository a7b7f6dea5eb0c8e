"""`synthir eval-merge --draws` (eval/draws.py): fresh generation draws of one recipe pooled, each
draw weighing the same, the draws resampled in the interval; planted per_query.json files."""

from __future__ import annotations

import json

import pytest
from datasets import Dataset

from synthir.cli import main
from synthir.errors import InputError
from synthir.eval.draws import draws_text, merge_draws
from synthir.eval.harness import data_sha256
from synthir.eval.merge import merge_evals
from synthir.eval.versus import compare_evals

TEST = [f"q{i}" for i in range(10)]
OPTIONS = {"epochs": 3.0, "learning_rate": 2e-05, "loss": "mnrl", "human_split": 0.5, "human_seed": 0}


def _scores(value, qids=TEST):
    return {m: {q: value for q in qids} for m in ("ndcg@10", "mrr@10", "recall@100")}


def _write(d, seeds, synthetic, human=0.6, base=0.5, rows=100, human_rows=50, sha=None, options=None,
           unseen=None, test=TEST):
    """An eval dir: `synthetic` one nDCG value per seed (every query), the human arm `human`
    for every seed; `unseen` (qids, synthetic value) adds the unseen-question block."""
    d.mkdir(parents=True)
    rec = {"beir": "dev", "qrels_split": "test", "test_qids": list(test), "seeds": list(seeds),
           "groups": {"all": list(test)},
           "arms": {"base": [_scores(base, test)], "synthetic": [_scores(v, test) for v in synthetic],
                    "human": [_scores(human, test) for _ in seeds]},
           "training": {"model": "e5-small", "rows": {"synthetic": rows, "human": human_rows},
                        "options": options or OPTIONS}}
    if sha:
        rec["data_sha256"] = sha
    if unseen:
        qids, value = unseen
        rec["unseen"] = {"qids": qids, "train_queries": 10, "shown": 2, "base": {q: base for q in qids},
                         "synthetic": [{q: value for q in qids} for _ in seeds]}
    (d / "per_query.json").write_text(json.dumps(rec))
    return d


def test_each_draw_weighs_the_same_and_the_draws_widen_the_interval(tmp_path):
    a = _write(tmp_path / "a", [0, 1, 2], [0.5, 0.5, 0.5], unseen=(["u0", "u1", "u2"], 0.5))
    b = _write(tmp_path / "b", [0], [0.9], unseen=(["u1", "u2", "u3"], 0.9))
    res = merge_draws([a, b], tmp_path / "m", resamples=1000)
    comp = res["comparison"]
    syn = comp["arms"]["synthetic"]["all"]["ndcg@10"]
    assert syn["mean"] == 0.7 and syn["n"] == 2  # (0.5 + 0.9) / 2, not (3 * 0.5 + 0.9) / 4
    # over the questions alone every question gains +0.2: a zero-width interval
    q = comp["deltas"]["synthetic-base"]["all"]
    assert (q["mean"], q["ci_low"], q["ci_high"]) == (0.2, 0.2, 0.2)
    # the draws resampled: both draws of a (0.0), one of each (+0.2) or both of b (+0.4)
    d = comp["deltas_draws"]["synthetic-base"]["all"]
    assert (d["ci_low"], d["ci_high"], d["seeds_a"]) == (0.0, 0.4, 2) and 0.6 < d["share_above_0"] < 0.9
    assert "synthetic-human" in comp["deltas_draws"] and "synthetic-base" not in comp.get("deltas_seeds", {})
    # the human arm trained the same rows for seed 0 in both dirs: kept once
    assert comp["arms"]["human"]["all"]["ndcg@10"]["n"] == 3
    merge = json.loads((tmp_path / "m" / "merge.json").read_text())
    assert merge["mode"] == "draws" and merge["human_max_diff"] == 0
    assert [x["seeds"] for x in merge["draws"]] == [[0, 1, 2], [0]] and merge["draws"][0]["dirs"][0].endswith("/a")
    per = json.loads((tmp_path / "m" / "per_query.json").read_text())
    assert len(per["arms"]["synthetic"]) == 2 and per["human_seeds"] == [0, 1, 2]
    assert per["training"]["rows"] == {"synthetic": [100, 100], "human": 50} and "data_sha256" not in per
    # unseen: only the questions no draw saw, each draw's mean weighing the same
    u = comp["unseen"]
    assert per["unseen"]["qids"] == ["u1", "u2"] and u["queries"] == 12 and u["synthetic"] == 0.7
    assert u["delta_draws"]["ci_high"] == 0.4 and "delta_seeds" not in u
    # eval-compare reads the merged dir: its synthetic runs are the draws
    r = compare_evals(tmp_path / "m", a, resamples=200)
    assert (r["runs_a"], r["runs_b"], r["delta"]["mean"]) == (2, 3, 0.2)
    text = draws_text(res)
    assert "merged 2 generation draws" in text and text.count("draws resampled too") == 3
    assert str(tmp_path) not in json.dumps(per) + json.dumps(merge)


def test_dirs_of_one_dataset_are_one_draw(tmp_path):
    s0 = _write(tmp_path / "s0", [0], [0.6], sha="x")
    s12 = _write(tmp_path / "s12", [1, 2], [0.7, 0.8], sha="x")
    other = _write(tmp_path / "other", [0], [0.5], sha="y")
    res = merge_draws([s0, s12, other], tmp_path / "m", resamples=200)
    assert [d["seeds"] for d in res["merge"]["draws"]] == [[0, 1, 2], [0]]
    assert res["comparison"]["arms"]["synthetic"]["all"]["ndcg@10"]["mean"] == 0.6  # (0.7 + 0.5) / 2
    # plain eval-merge refuses other data, and names --draws
    with pytest.raises(InputError, match="other synthetic data.*--draws"):
        merge_evals([s0, other], tmp_path / "x")


def test_what_is_not_a_draw_of_one_recipe_is_refused(tmp_path):
    a = _write(tmp_path / "a", [0], [0.6])
    with pytest.raises(InputError, match="at least two draws"):
        merge_draws([_write(tmp_path / "p0", [0], [0.6], sha="x"), _write(tmp_path / "p1", [1], [0.6], sha="x")],
                    tmp_path / "x")
    with pytest.raises(InputError, match="seed 0 of one draw is in both"):
        merge_draws([_write(tmp_path / "r0", [0], [0.6], sha="z"), _write(tmp_path / "r1", [0], [0.7], sha="z"), a],
                    tmp_path / "x")
    with pytest.raises(InputError, match="the same synthetic student for seed 0"):
        merge_draws([a, _write(tmp_path / "copy", [0], [0.6])], tmp_path / "x")
    with pytest.raises(InputError, match="differs in: learning_rate"):
        merge_draws([a, _write(tmp_path / "lr", [0], [0.7], options={**OPTIONS, "learning_rate": 1e-4})],
                    tmp_path / "x")
    with pytest.raises(InputError, match="differs in: human rows"):
        merge_draws([a, _write(tmp_path / "hr", [0], [0.7], human_rows=51)], tmp_path / "x")
    with pytest.raises(InputError, match="not tested on the same queries"):
        merge_draws([a, _write(tmp_path / "tq", [0], [0.7], test=TEST[:5])], tmp_path / "x")
    with pytest.raises(InputError, match="base model scores differently"):
        merge_draws([a, _write(tmp_path / "bs", [0], [0.7], base=0.4)], tmp_path / "x")
    with pytest.raises(InputError, match="must not be one of"):
        merge_draws([a, _write(tmp_path / "ok", [0], [0.7])], a)
    # another draw's synthetic rows may differ: that is the draw
    assert merge_draws([a, _write(tmp_path / "rows", [0], [0.7], rows=120)], tmp_path / "m", resamples=50)


def test_cli(tmp_path, capsys):
    a = _write(tmp_path / "a", [0], [0.6])
    b = _write(tmp_path / "b", [0], [0.8])
    assert main(["eval-merge", "--draws", str(a), str(b), "--out", str(tmp_path / "m"), "--bootstrap", "100"]) == 0
    out = capsys.readouterr().out
    assert "merged 2 generation draws" in out and "synthetic-base" in out and "draws resampled too" in out
    rc = main(["eval-merge", "--draws", str(a), str(tmp_path / "nope"), "--out", str(tmp_path / "m2")])
    err = capsys.readouterr().err
    assert rc != 0 and "no per_query.json" in err and len(err.strip().splitlines()) == 1


def test_data_fingerprint():
    pairs = Dataset.from_list([{"anchor": "q1", "positive": "p1"}, {"anchor": "q2", "positive": "p2"}])
    same = Dataset.from_list([{"anchor": "q1", "positive": "p1"}, {"anchor": "q2", "positive": "p2"}])
    other = Dataset.from_list([{"anchor": "q1", "positive": "p1"}, {"anchor": "q2", "positive": "p3"}])
    assert data_sha256({"mnrl": ("pairs", pairs)}) == data_sha256({"mnrl": ("pairs", same)})
    assert data_sha256({"mnrl": ("pairs", pairs)}) != data_sha256({"mnrl": ("pairs", other)})
    assert data_sha256({"mnrl": ("pairs", pairs)}) != data_sha256({"mnrl": ("triplets", pairs)})
