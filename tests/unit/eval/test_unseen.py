"""eval/unseen.py: which human-train questions the synthetic arm never saw, and the summary."""

from __future__ import annotations

import pytest

from synthir.errors import InputError
from synthir.eval.unseen import norm, read_shown, unseen_summary, unseen_train


def test_shown_questions_are_read_normalised_and_bad_lines_named(tmp_path):
    f = tmp_path / "ex.jsonl"
    f.write_text('{"passage": "p", "query": "  Wie LÖSCHE ich\\teinen Ordner? "}\n\n{"query": "Zahlenbasen"}\n')
    assert read_shown(f) == {"wie lösche ich einen ordner?", "zahlenbasen"}
    for text, why in (('{"query": 3}\n', "line 1"), ('not json\n', "line 1"), ('{"q": "x"}\n{}\n', "line 1"),
                      ('["query"]\n', "line 1")):
        f.write_text(text)
        with pytest.raises(InputError, match=why):
            read_shown(f)
    with pytest.raises(InputError, match="no such file"):
        read_shown(tmp_path / "missing.jsonl")


def test_unseen_train_keeps_order_and_drops_seen_texts():
    queries = {"a": "Uhren", "b": "Videos ", "c": "Komplexe  Zahlen"}
    assert unseen_train(["c", "a", "b"], [], queries, {norm("komplexe zahlen"), "videos"}) == ["a"]
    assert unseen_train(["c", "a"], [], queries, set()) == ["c", "a"]
    queries["t"] = "UHREN"  # a test question in the same words as train question a: a counts once, as a test one
    assert unseen_train(["c", "a"], ["t"], queries, set()) == ["c"]


def test_summary_averages_synthetic_seeds_over_test_and_unseen_questions():
    base = {"t1": 0.0, "t2": 1.0, "u1": 0.5, "x": 0.0}
    synthetic = [{"t1": 1.0, "t2": 1.0, "u1": 0.5, "x": 1.0}, {"t1": 0.0, "t2": 1.0, "u1": 1.0, "x": 1.0}]
    s = unseen_summary(base, synthetic, ["t1", "t2"], ["u1"], n_train=3, n_shown=2, resamples=50)
    assert (s["queries"], s["test_queries"], s["train_queries"], s["left_out"], s["shown"]) == (3, 2, 3, 2, 2)
    assert s["base"] == pytest.approx(0.5) and s["synthetic"] == pytest.approx((0.5 + 1.0 + 0.75) / 3, abs=1e-4)
    assert s["delta"]["mean"] == pytest.approx((0.5 + 0.0 + 0.25) / 3, abs=1e-4) and s["delta"]["n_queries"] == 3
