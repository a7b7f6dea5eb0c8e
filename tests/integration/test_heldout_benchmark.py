"""`synthir eval --score-unseen` and benchmarks/heldout.py for real, small: a real eval with a
human split scores synthetic − base on the questions never shown; heldout.py re-scores the base
MiniLM and the saved student afterwards and must reproduce both the eval's test-half scores and
its unseen summary exactly. benchmarks/wiseft.py's weight averages at a = 0 and a = 1 must
give the same per-question scores as the base and the saved student, and benchmarks/moves.py
reads the student's published pairs back (benchmarks/margins.py scores their round-trip margins)."""

from __future__ import annotations

import json

import pytest

from synthir.cli import main
from synthir.eval.human import split_queries
from synthir.io.beir import read_beir
from synthir.publish.hf import publish
from tests.benchmark_scripts import load_benchmark
from tests.planted import make_planted_run

pytestmark = pytest.mark.slow

heldout = load_benchmark("heldout")
wiseft = load_benchmark("wiseft")
moves = load_benchmark("moves")
margins = load_benchmark("margins")


def test_unseen_questions_rescored_and_the_test_half_reproduced(tmp_path, monkeypatch, capsys):
    beir = tmp_path / "beir"
    assert main(["dev-set", "--langs", "en", "fr", "--out", str(beir), "--queries-per-lang", "8",
                 "--cross-per-pair", "4", "--corpus-per-lang", "40", "--seed", "2"]) == 0
    cfg, paths, _, _ = make_planted_run(tmp_path / "data", dev_fraction=0.0)
    publish(cfg, paths)
    data = read_beir(beir)
    hs = split_queries(list(data.qrels["test"]), 0.5, 0)
    shown = data.queries[hs.train[1]]  # one human-train question shown to the generator
    out = tmp_path / "work" / "eval"
    out.parent.mkdir()
    (out.parent / "fewshot.jsonl").write_text(json.dumps({"passage": "p", "query": shown, "lang": "en"}) + "\n")
    assert main(["eval", str(paths.root), "--beir", str(beir), "--out", str(out), "--batch-size", "4",
                 "--lr", "1e-3", "--max-steps", "1", "--seeds", "0", "--human-split", "0.5",
                 "--bootstrap", "50", "--score-unseen", str(out.parent / "fewshot.jsonl")]) == 0
    assert "unseen questions (" in capsys.readouterr().out

    r = heldout.heldout(out, None, resamples=50)
    assert r["max_drift_from_eval_per_query"] == 0.0
    assert r["left_out_of_train_half"] == 1
    assert r["test_half"]["queries"] == len(hs.test)
    assert r["unseen_train_half"]["queries"] == len(hs.train) - 1
    assert r["all_unseen"]["queries"] == len(hs.test) + len(hs.train) - 1
    assert hs.train[1] not in r["per_question"] and set(hs.test) <= set(r["per_question"])
    per = json.loads((out / "per_query.json").read_text())["arms"]
    test_mean = sum(per["synthetic"][0]["ndcg@10"][q] for q in hs.test) / len(hs.test)
    assert r["test_half"]["synthetic"] == pytest.approx(test_mean, abs=1e-4)
    u = json.loads((out / "comparison.json").read_text())["unseen"]  # the eval's own, from the same models
    assert (u["queries"], u["left_out"], u["shown"]) == (r["all_unseen"]["queries"], 1, 1)
    assert (u["base"], u["synthetic"], u["delta"]) == (r["all_unseen"]["base"], r["all_unseen"]["synthetic"],
                                                       r["all_unseen"]["delta"])

    w = wiseft.wiseft(out, None, [0.0, 0.5, 1.0], resamples=50)
    for a, arm in (("0.0", "base"), ("1.0", "synthetic")):
        assert w["per_question"][a] == {q: v[arm] for q, v in r["per_question"].items()}
    assert w["all_unseen"]["1.0"]["delta"]["mean"] == 0.0
    m = moves.moves(w, out, list_worse=True)  # the published pairs the student trained on, read back
    assert sum(g["questions"] for g in m["groups"].values()) == r["all_unseen"]["queries"]
    assert m["groups"]["same"]["ndcg_moved"] == 0.0 and m["pairs"] > 0
    lw = m["worse"]  # searched again with base and the saved student: one row per worse question
    assert [x["question"] for x in lw["questions"]] == moves.groups(w["per_question"]["0.0"], w["per_question"]["1.0"])["worse"]
    assert lw["tuned_first_relevant"] + lw["tuned_first_same_app"] + lw["tuned_first_other_app"] == len(lw["questions"])
    mg = margins.measure(m, out)  # every published pair's round-trip margin under the base model
    assert mg["all_pairs"]["pairs"] == m["pairs"] and mg["attracting_pairs"]["pairs"] <= m["pairs"]
    shares = [mg["all_pairs"]["below"][str(c)] for c in margins.CUTS]
    assert shares == sorted(shares) and -2.0 <= mg["all_pairs"]["median"] <= 2.0  # cosine differences

    monkeypatch.setattr(heldout, "ROOT", tmp_path)
    (tmp_path / "benchmarks" / "results").mkdir(parents=True)
    assert heldout.main([str(out), "--tag", "t-1.5b", "--bootstrap", "50"]) == 0
    written = (tmp_path / "benchmarks" / "results" / "heldout-t-1.5b.json").read_text()
    assert str(tmp_path) not in written
    assert json.loads(written)["runs"][0]["all_unseen"] == r["all_unseen"]
