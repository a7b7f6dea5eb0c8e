"""benchmarks/moves.py: questions a fine-tune made worse / better, against its training pairs."""

from __future__ import annotations

import json

import pytest

from tests.benchmark_scripts import load_benchmark

moves = load_benchmark("moves")


def test_groups_split_by_direction():
    g = moves.groups({"a": 0.5, "b": 0.5, "c": 1.0}, {"a": 0.2, "b": 0.5, "c": 1.0 + 1e-12})
    assert g == {"worse": ["a"], "better": [], "same": ["b", "c"]}


def test_describe_counts_kept_queries_and_the_nearest_query_s_page():
    questions = {"q1": "delete a folder", "q2": "zoom in"}
    relevant = {"q1": {"p1"}, "q2": {"p2", "p3"}}
    pair_queries = ["how to delete a folder", "remove folder", "zoom the view in", "play a dvd"]
    pair_pages = ["p9", "p1", "p2", "p4"]  # q1's nearest query was written for p9
    d = moves.describe(["q1", "q2"], {"q1": 1.0, "q2": 0.0}, {"q1": 0.5, "q2": 1.0}, questions, relevant,
                       pair_queries, pair_pages)
    assert d["questions"] == 2 and d["ndcg_moved"] == 0.5
    assert d["kept_queries_per_page"] == 0.5  # q1: p1 has 1; q2: the fewer of p2 (1) and p3 (0)
    assert d["pages_without_kept_query"] == 1
    assert d["nearest_kept_query_is_another_page"] == 1
    md = moves.table([{"devset": "set-de", "groups": {"worse": d}}])
    assert "| de: worse | 2 | +0.50 | 0.5 | 1 | 1 |" in md


def test_every_wiseft_run_needs_its_eval_dir(tmp_path):
    w = tmp_path / "w.json"
    w.write_text(json.dumps({"runs": [{"eval": "eval-de", "devset": "x-de"}]}))
    with pytest.raises(SystemExit, match="no EVAL_DIR named eval-de"):
        moves.main([str(w), str(tmp_path / "eval-fr"), "--tag", "t"])
    with pytest.raises(SystemExit, match="missing"):
        moves.main([str(tmp_path / "none.json"), str(tmp_path), "--tag", "t"])


def test_an_eval_dir_without_eval_json_is_one_line(tmp_path):
    run = {"eval": "eval-de", "devset": "x-de", "per_question": {"0.0": {}, "1.0": {}}}
    with pytest.raises(SystemExit, match="eval.json: missing"):
        moves.moves(run, tmp_path / "eval-de")


def test_confusions_name_the_student_s_first_page_and_its_application():
    base = {"q1": {"de:cheese/a": 0.9, "de:totem/b": 0.5}, "q2": {"de:cheese/c": 0.8, "de:cheese/d": 0.7}}
    tuned = {"q1": {"de:cheese/a": 0.6, "de:totem/b": 0.7}, "q2": {"de:cheese/c": 0.6, "de:cheese/d": 0.9}}
    relevant = {"q1": {"de:cheese/a"}, "q2": {"de:cheese/c"}}
    pair_queries = ["play a film", "take a photo", "set a timer", "film subtitles", "burst mode"]
    pair_pages = ["de:totem/b", "de:cheese/a", "de:cheese/d", "de:totem/b", "de:cheese/d"]
    rows = moves.confusions(["q1", "q2"], base, tuned, {"q1": "Fotos", "q2": "Serienbild"}, relevant,
                            pair_queries, pair_pages, shown=1)
    assert [r["base_first"] for r in rows] == ["de:cheese/a", "de:cheese/c"]
    assert [r["tuned_first"] for r in rows] == ["de:totem/b", "de:cheese/d"]
    assert [r["tuned_first_other_app"] for r in rows] == [True, False]
    assert rows[0]["kept_of_tuned_first"] == ["play a film"] and rows[0]["kept_of_relevant"] == ["take a photo"]
    md = moves.worse_table([{"devset": "x-de", "worse": {"tuned_first_relevant": 0, "tuned_first_same_app": 1,
                                                          "tuned_first_other_app": 1, "questions": rows}}])
    assert "0 relevant, 1 same app, 1 other app" in md
    assert "| Fotos | de:cheese/a | de:totem/b | play a film | take a photo |" in md
    assert moves.worse_table([{"devset": "x-de"}]) == ""
