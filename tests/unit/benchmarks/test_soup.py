"""benchmarks/soup.py: the draws' students averaged into one (a uniform model soup), compared with
what one draw gives on average, on questions no draw has seen."""

from __future__ import annotations

import pytest
import torch

from tests.benchmark_scripts import load_benchmark

soup = load_benchmark("soup")


def test_the_soup_is_the_mean_of_float_tensors_and_keeps_integer_buffers():
    states = [{"w": torch.tensor([0.0, 3.0]), "ids": torch.tensor([0, 1])},
              {"w": torch.tensor([3.0, 6.0]), "ids": torch.tensor([0, 1])},
              {"w": torch.tensor([6.0, 0.0]), "ids": torch.tensor([0, 1])}]
    out = soup.average(states)
    assert torch.allclose(out["w"], torch.tensor([3.0, 3.0]))
    assert torch.equal(out["ids"], torch.tensor([0, 1]))
    assert torch.equal(states[0]["w"], torch.tensor([0.0, 3.0]))  # the students are not changed


def test_the_soup_refuses_students_of_different_bases():
    with pytest.raises(SystemExit, match="differ in 1 tensors"):
        soup.average([{"w": torch.zeros(2)}, {"w": torch.zeros(2), "v": torch.zeros(1)}])
    with pytest.raises(SystemExit, match="shapes"):
        soup.average([{"w": torch.zeros(2)}, {"w": torch.zeros(3)}])


def _ctx(test, unseen, devset="set2-es", model="e5-small"):
    return {"info": {"beir": f"/x/{devset}", "qrels_split": "test", "model": model},
            "opts": {"query_prefix": "query: ", "passage_prefix": "passage: "},
            "part": {"test": test, "unseen_train": unseen}}


def test_unseen_means_unseen_by_every_draw_and_the_evals_must_match():
    a, b = _ctx(["t1", "t2"], ["u1", "u2", "u3"]), _ctx(["t2", "t1"], ["u3", "u1", "u9"])
    soup.check_same_eval([a, b])  # the same test half in another order
    assert soup.questions([a, b]) == {"test": ["t1", "t2"], "unseen": ["u1", "u3"]}
    for other in (_ctx(["t1", "t3"], []), _ctx(["t1", "t2"], [], devset="set2-de"), _ctx(["t1", "t2"], [], model="minilm")):
        with pytest.raises(SystemExit, match="differ in dev set"):
            soup.check_same_eval([a, other])


def test_soup_is_compared_with_the_draws_mean_per_question():
    scores = {"base": {"q1": 0.5, "q2": 0.5}, "d1": {"q1": 1.0, "q2": 0.0}, "d2": {"q1": 0.0, "q2": 1.0}}
    scores["draw mean"] = soup.mean_scores([scores["d1"], scores["d2"]])
    assert scores["draw mean"] == {"q1": 0.5, "q2": 0.5}
    scores["soup"] = {"q1": 1.0, "q2": 1.0}
    s = soup.summaries(scores, ["q1", "q2"], resamples=50)
    assert s["soup_vs_draw_mean"]["delta"]["mean"] == pytest.approx(0.5)
    assert s["soup"]["delta"]["mean"] == pytest.approx(0.5)  # − base
    assert s["d1"]["delta"]["mean"] == pytest.approx(0.0)
    r = {"devset": "set2-es", "model": "e5-small", "questions": {"test": 2, "unseen": 2}, "test_half": s, "unseen": s}
    md = soup.table(r)
    assert "| soup | 1.000 | +0.500" in md and "soup − the draws' mean" in md


def test_one_eval_dir_is_refused_in_one_line(capsys):
    with pytest.raises(SystemExit, match="at least two eval dirs"):
        soup.main(["--tag", "t", "only-one"])


def test_the_union_control_holds_every_draws_pairs_once(tmp_path):
    import pandas as pd

    def work(name, queries):
        w = tmp_path / name
        (w / "data" / "data" / "pairs").mkdir(parents=True)
        f = "train-00000-of-00001-aaaaaaaaaaaa.parquet"
        pd.DataFrame({"query": queries, "positive_id": ["x"] * len(queries), "positive": ["p"] * len(queries)}
                     ).to_parquet(w / "data" / "data" / "pairs" / f, index=False)
        (w / "data" / "README.md").write_text(f"---\nconfigs:\n- config_name: pairs\n  data_files:\n"
                                              f"  - split: train\n    path: data/pairs/{f}\n---\n")
        (w / "fewshot.jsonl").write_text('{"query": "shown"}\n')
        return w

    a, b = work("a", ["q1", "q2"]), work("b", ["q2", "q3", "q4"])
    u = soup.union_copy([a, b], tmp_path / "u")
    assert (u["pairs"], u["repeats_dropped"], u["passages"]) == (4, 1, 1)
    from tests.benchmark_scripts import load_benchmark

    bag = load_benchmark("bag")
    assert sorted(pd.read_parquet(bag.pairs_file(u["dir"] / "data"))["query"]) == ["q1", "q2", "q3", "q4"]
    (b / "fewshot.jsonl").write_text('{"query": "other"}\n')
    with pytest.raises(SystemExit, match="same fewshot.jsonl"):
        soup.union_copy([a, b], tmp_path / "u2")
    (a / "fewshot.jsonl").unlink()  # one draw without its examples file: refused, not a traceback
    with pytest.raises(SystemExit, match="same fewshot.jsonl"):
        soup.union_copy([a, b], tmp_path / "u3")


def test_a_seed_soup_needs_every_seeds_students_kept(tmp_path):
    (tmp_path / "model").mkdir()
    (tmp_path / "model-seed1").mkdir()
    assert soup.seed_students(tmp_path, "synthetic", [0, 1]) == [tmp_path / "model", tmp_path / "model-seed1"]
    with pytest.raises(SystemExit, match="no model-seed2/ .*--keep-models"):
        soup.seed_students(tmp_path, "synthetic", [0, 1, 2])
    with pytest.raises(SystemExit, match="no model-human/"):
        soup.seed_students(tmp_path, "human", [0, 1])
    with pytest.raises(SystemExit, match="one eval dir"):
        soup.main(["--tag", "t", "--seeds", "a", "b"])


def test_the_seed_table_adds_the_human_arm_on_the_test_half():
    scores = {"base": {"q1": 0.5, "q2": 0.5}, "seed 0": {"q1": 1.0, "q2": 0.0}, "seed 1": {"q1": 0.0, "q2": 1.0}}
    scores["draw mean"] = soup.mean_scores([scores["seed 0"], scores["seed 1"]])
    scores["soup"] = {"q1": 1.0, "q2": 1.0}
    t = soup.summaries(scores, ["q1", "q2"], resamples=50)
    human = {"q1": 0.5, "q2": 1.0}
    t["human soup"] = soup.heldout.summarise(scores["base"], human, ["q1", "q2"], 50)
    t["soup_vs_human_soup"] = soup.heldout.summarise(human, scores["soup"], ["q1", "q2"], 50)
    r = {"devset": "set2-es", "model": "e5-small", "questions": {"test": 2, "unseen": 2}, "test_half": t,
         "unseen": soup.summaries(scores, ["q1", "q2"], resamples=50)}
    md = soup.seed_table(r)
    assert "| human soup | 0.750 | +0.250" in md and "soup − the human soup** | | +0.250" in md
    assert "the seeds' mean" in md and "draw" not in md
