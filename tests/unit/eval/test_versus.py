"""`synthir eval-compare` (eval/versus.py): two eval dirs paired query by query, with the
scripted encoder of test_harness_flow (no real model)."""

from __future__ import annotations

import json
import re

import pytest

from synthir.cli import main
from synthir.errors import InputError
from synthir.eval.harness import EvalOptions, run_eval
from synthir.eval.train import TrainOptions
from synthir.eval.versus import compare_evals, versus_text
from tests.unit.eval.test_harness_flow import dirs, fakes  # noqa: F401  (fixtures)


def _eval(dataset, beir, out, seeds, human_split=0.5):
    run_eval(dataset, beir, out, opts=TrainOptions(max_steps=1),
             eval_opts=EvalOptions(seeds=seeds, human_split=human_split, resamples=200))
    return json.loads((out / "comparison.json").read_text())


def test_per_query_scores_pair_two_evals(dirs, fakes, tmp_path):  # noqa: F811
    dataset, beir = dirs
    # the fake fine-tune pulls queries to their documents by 1 + seed: seed 2 beats seed 0
    comp_a = _eval(dataset, beir, tmp_path / "a", [2])
    comp_b = _eval(dataset, beir, tmp_path / "b", [0, 1])
    per = json.loads((tmp_path / "a" / "per_query.json").read_text())
    assert per["seeds"] == [2] and len(per["arms"]["synthetic"]) == 1 and len(per["arms"]["base"]) == 1
    assert set(per["arms"]["synthetic"][0]["ndcg@10"]) == set(per["test_qids"])
    r = compare_evals(tmp_path / "a", tmp_path / "b", resamples=500)
    # the per-query files reproduce each eval's own seed-averaged mean
    assert r["a_mean"] == pytest.approx(comp_a["arms"]["synthetic"]["all"]["ndcg@10"]["mean"], abs=1e-4)
    assert r["b_mean"] == pytest.approx(comp_b["arms"]["synthetic"]["all"]["ndcg@10"]["mean"], abs=1e-4)
    assert (r["runs_a"], r["runs_b"]) == (1, 2) and r["queries"] == len(per["test_qids"])
    assert r["delta"]["mean"] == pytest.approx(r["a_mean"] - r["b_mean"], abs=2e-4)
    assert r["delta"]["ci_low"] <= r["delta"]["mean"] <= r["delta"]["ci_high"]
    # the base arm is the same model on the same queries: no difference at all
    base = compare_evals(tmp_path / "a", tmp_path / "b", arm="base")
    assert base["delta"]["mean"] == 0 and base["delta"]["ci_low"] == base["delta"]["ci_high"] == 0
    assert "A - B" in versus_text(r) and "shared test queries" in versus_text(r)
    # B has two seeds: the seeds are resampled too, around the same mean
    m = r["delta_seeds"]
    assert (m["seeds_a"], m["seeds_b"], m["n_queries"]) == (1, 2, r["queries"])
    assert m["mean"] == pytest.approx(r["delta"]["mean"], abs=2e-4) and m["ci_low"] <= m["mean"] <= m["ci_high"]
    assert "seeds resampled too (Multi-Bootstrap, 1 and 2 runs)" in versus_text(r)
    assert "delta_seeds" not in base  # one base run on each side


def test_different_test_queries_or_missing_files_are_one_line_errors(dirs, fakes, tmp_path, capsys):  # noqa: F811
    dataset, beir = dirs
    _eval(dataset, beir, tmp_path / "half", [0])
    _eval(dataset, beir, tmp_path / "all", [0], human_split=None)  # every query is a test query
    with pytest.raises(InputError, match="not tested on the same queries"):
        compare_evals(tmp_path / "half", tmp_path / "all")
    with pytest.raises(InputError, match="no `human` arm"):
        compare_evals(tmp_path / "all", tmp_path / "all", arm="human")
    (tmp_path / "empty").mkdir()
    assert main(["eval-compare", str(tmp_path / "empty"), str(tmp_path / "all")]) == 2
    err = capsys.readouterr().err.strip()
    assert "no per_query.json" in err and len(err.splitlines()) == 1
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "per_query.json").write_text("{}")
    assert main(["eval-compare", str(tmp_path / "bad"), str(tmp_path / "all")]) == 2
    assert "not a per-query score file" in capsys.readouterr().err
    assert main(["eval-compare", str(tmp_path / "half"), str(tmp_path / "half")]) == 0
    assert "A - B +0.0000" in capsys.readouterr().out


def test_pairs_pool_their_test_queries(dirs, fakes, tmp_path, capsys):  # noqa: F811
    dataset, beir = dirs
    _eval(dataset, beir, tmp_path / "a", [2])
    _eval(dataset, beir, tmp_path / "b", [0])
    _eval(dataset, beir, tmp_path / "all", [0], human_split=None)
    one = compare_evals(tmp_path / "a", tmp_path / "b")
    assert one["delta"]["mean"] != 0 and "sets" not in one
    twice = compare_evals(tmp_path / "a", tmp_path / "b", more=[(tmp_path / "a", tmp_path / "b")])
    assert twice["queries"] == 2 * one["queries"] and twice["a_mean"] == one["a_mean"]
    assert [s["queries"] for s in twice["sets"]] == [one["queries"]] * 2
    # A ahead on one pair, B by as much on the other: pooled, no difference
    swapped = compare_evals(tmp_path / "a", tmp_path / "b", more=[(tmp_path / "b", tmp_path / "a")])
    assert swapped["delta"]["mean"] == pytest.approx(0, abs=1e-9)
    assert swapped["sets"][1]["a_mean"] == one["b_mean"]
    with pytest.raises(InputError, match="not tested on the same queries"):
        compare_evals(tmp_path / "a", tmp_path / "b", more=[(tmp_path / "a", tmp_path / "all")])
    # one run a side: nothing to resample; pooled with a 2-seed pair, the sides' run counts differ
    # between pairs, so no Multi-Bootstrap rather than a wrong one; equal counts pool run by run
    assert "delta_seeds" not in twice
    _eval(dataset, beir, tmp_path / "c", [0, 1])
    assert "delta_seeds" not in compare_evals(tmp_path / "a", tmp_path / "b", more=[(tmp_path / "c", tmp_path / "b")])
    pooled = compare_evals(tmp_path / "c", tmp_path / "b", more=[(tmp_path / "c", tmp_path / "b")])
    assert pooled["delta_seeds"]["seeds_a"] == 2 and pooled["delta_seeds"]["n_queries"] == pooled["queries"]
    assert main(["eval-compare", str(tmp_path / "a"), str(tmp_path / "b"),
                 "--pair", str(tmp_path / "b"), str(tmp_path / "a")]) == 0
    out = capsys.readouterr().out
    assert "pooled over 2 pairs" in out and re.search(r"A - B [+-]0\.0000,", out)


def test_slices_arms_and_the_questions_a_loses_most_on(dirs, fakes, tmp_path, capsys):  # noqa: F811
    dataset, beir = dirs
    _eval(dataset, beir, tmp_path / "a", [2])
    per = json.loads((tmp_path / "a" / "per_query.json").read_text())
    qids = sorted(per["test_qids"])
    syn = per["arms"]["synthetic"][0]["ndcg@10"]
    base = per["arms"]["base"][0]["ndcg@10"]
    first = f"^{re.escape(qids[0])}$"
    # a slice is exactly the mean over the ids it keeps; exclude keeps the rest
    only = compare_evals(tmp_path / "a", tmp_path / "a", arm_b="base", queries=first)
    assert only["queries"] == 1 and only["selection"] == {"queries": first, "exclude": None, "kept": 1,
                                                          "of": len(qids)}
    assert (only["a_mean"], only["b_mean"]) == (round(syn[qids[0]], 4), round(base[qids[0]], 4))
    rest = compare_evals(tmp_path / "a", tmp_path / "a", arm_b="base", exclude=first)
    assert rest["queries"] == len(qids) - 1
    assert rest["a_mean"] == pytest.approx(sum(syn[q] for q in qids[1:]) / (len(qids) - 1), abs=1e-4)
    # one dir, two arms: the synthetic student against the base model on the same questions
    both = compare_evals(tmp_path / "a", tmp_path / "a", arm_b="base", show=len(qids))
    assert both["arm_b"] == "base" and "selection" not in both
    assert both["delta"]["mean"] == pytest.approx(both["a_mean"] - both["b_mean"], abs=2e-4)
    lost, won = both["lose_most"], both["win_most"]
    assert len(lost) + len(won) == sum(round(syn[q] - base[q], 4) != 0 for q in qids) > 0
    assert [x["delta"] for x in lost] == sorted(x["delta"] for x in lost) and all(x["delta"] < 0 for x in lost)
    assert [x["delta"] for x in won] == sorted((x["delta"] for x in won), reverse=True)
    texts = {json.loads(line)["_id"]: json.loads(line)["text"] for line in (beir / "queries.jsonl").open()}
    assert all(x["text"] == texts[x["qid"]] and x["a"] == round(syn[x["qid"]], 4) for x in lost + won)
    # no BEIR dir to read (as in published results): ids only, no error
    gone = compare_evals(tmp_path / "a", tmp_path / "a", arm_b="base", show=1, beir=tmp_path / "nowhere")
    assert all(x["text"] is None for x in gone["lose_most"] + gone["win_most"])
    with pytest.raises(InputError, match="not a regular expression"):
        compare_evals(tmp_path / "a", tmp_path / "a", queries="(")
    with pytest.raises(InputError, match="no test query is left by --queries 'zzz'"):
        compare_evals(tmp_path / "a", tmp_path / "a", queries="zzz")
    out_json = tmp_path / "cmp.json"
    assert main(["eval-compare", str(tmp_path / "a"), str(tmp_path / "a"), "--arm-b", "base", "--exclude", first,
                 "--show", "2", "--json", str(out_json)]) == 0
    out = capsys.readouterr().out
    assert "A's synthetic arm against B's base arm" in out and f"{len(qids) - 1} of {len(qids)}" in out
    assert "A loses most on" in out and json.loads(out_json.read_text())["queries"] == len(qids) - 1
    assert main(["eval-compare", str(tmp_path / "a"), str(tmp_path / "a"), "--queries", "("]) == 2
    err = capsys.readouterr().err.strip()
    assert "not a regular expression" in err and len(err.splitlines()) == 1


def test_unseen_pairs_the_human_train_questions_neither_arm_saw(dirs, fakes, tmp_path, capsys):  # noqa: F811
    dataset, beir = dirs

    def run(out, seeds, shown_texts):
        shown = tmp_path / f"{out}-shown.jsonl"
        shown.write_text("".join(json.dumps({"query": t}) + "\n" for t in shown_texts))
        run_eval(dataset, beir, tmp_path / out, opts=TrainOptions(max_steps=1),
                 eval_opts=EvalOptions(seeds=seeds, human_split=0.5, resamples=200, score_unseen=shown))
        return json.loads((tmp_path / out / "per_query.json").read_text())

    texts = {json.loads(x)["_id"]: json.loads(x)["text"] for x in (beir / "queries.jsonl").read_text().splitlines()}
    first = run("probe", [0], [])
    train = first["unseen"]["qids"]
    assert len(train) >= 3
    # A's generator was shown one human-train question, B's another: each is left out of the pairing
    pa, pb = run("a", [2], [texts[train[0]]]), run("b", [0, 1], [texts[train[1]]])
    assert train[0] not in pa["unseen"]["qids"] and train[1] not in pb["unseen"]["qids"]
    r = compare_evals(tmp_path / "a", tmp_path / "b", resamples=300, unseen=True)
    both = sorted(set(pa["unseen"]["qids"]) & set(pb["unseen"]["qids"]))
    assert train[0] not in both and train[1] not in both and len(both) == len(train) - 2
    assert r["unseen"] == {"test_queries": len(pa["test_qids"]), "train_queries": len(both), "only_a": 1, "only_b": 1}
    assert r["queries"] == len(pa["test_qids"]) + len(both)

    def mean(rec, qids):  # each question's score averaged over the seeds, then over the questions
        tests = (x["ndcg@10"] for x in rec["arms"]["synthetic"])
        runs = [{**t, **u} for t, u in zip(tests, rec["unseen"]["synthetic"])]
        return sum(sum(run[q] for run in runs) / len(runs) for q in qids) / len(qids)

    assert r["a_mean"] == pytest.approx(mean(pa, pa["test_qids"] + both), abs=1e-4)
    assert r["b_mean"] == pytest.approx(mean(pb, pa["test_qids"] + both), abs=1e-4)
    assert r["delta"]["mean"] == pytest.approx(r["a_mean"] - r["b_mean"], abs=2e-4)
    # each of B's two runs carries its test and its unseen scores: the seed draws take both parts
    assert r["delta_seeds"]["n_queries"] == r["queries"] and r["delta_seeds"]["seeds_b"] == 2
    assert r["delta_seeds"]["mean"] == pytest.approx(r["delta"]["mean"], abs=2e-4)
    own = json.loads((tmp_path / "b" / "comparison.json").read_text())["unseen"]  # `synthir eval`'s unseen line
    assert own["delta_seeds"]["seeds_a"] == 2
    # the same base model on the same questions; the test-only comparison is unchanged by the flag
    assert compare_evals(tmp_path / "a", tmp_path / "b", arm="base", unseen=True)["delta"]["mean"] == 0
    plain = compare_evals(tmp_path / "a", tmp_path / "b", resamples=300)
    assert plain["queries"] == len(pa["test_qids"]) and "unseen" not in plain
    # the query-id filters apply to both parts
    odd = compare_evals(tmp_path / "a", tmp_path / "b", unseen=True, queries=r"[13579]$")
    assert odd["unseen"]["train_queries"] == sum(q[-1] in "13579" for q in both)
    with pytest.raises(InputError, match="synthetic or base arm by ndcg@10 only"):
        compare_evals(tmp_path / "a", tmp_path / "b", arm="human", unseen=True)
    with pytest.raises(InputError, match="synthetic or base arm by ndcg@10 only"):
        compare_evals(tmp_path / "a", tmp_path / "b", metric="mrr@10", unseen=True)
    run_eval(dataset, beir, tmp_path / "old", opts=TrainOptions(max_steps=1),
             eval_opts=EvalOptions(seeds=[0], human_split=0.5, resamples=200))
    assert main(["eval-compare", "--unseen", str(tmp_path / "a"), str(tmp_path / "old")]) == 2
    err = capsys.readouterr().err.strip()
    assert "no unseen-question scores" in err and len(err.splitlines()) == 1
    broken = json.loads((tmp_path / "old" / "per_query.json").read_text())
    (tmp_path / "old" / "per_query.json").write_text(json.dumps({**broken, "unseen": {"qids": []}}))
    assert main(["eval-compare", "--unseen", str(tmp_path / "a"), str(tmp_path / "old")]) == 2
    err = capsys.readouterr().err.strip()
    assert "is not an unseen-score block" in err and len(err.splitlines()) == 1
    assert main(["eval-compare", "--unseen", str(tmp_path / "a"), str(tmp_path / "b")]) == 0
    out = capsys.readouterr().out
    assert f"{r['queries']} shared questions" in out and f"{len(both)} human-train unseen by both" in out
    assert "1 unseen by A only, 1 by B only" in out
