"""benchmarks/drop_named.py: the pairs whose query names the program are left out of a copy of the
dataset; the random control leaves out as many rows per passage, and the draw stays untouched."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from tests.benchmark_scripts import downstream_work_dir, load_benchmark

drop = load_benchmark("drop_named")
NAMES = re.compile(r"zsh|fetchmail", re.IGNORECASE)
QUERIES = ["How do I use zsh?", "history size", "Fetchmail and IMAP", "prompt colours", "ZSH aliases", "IMAP idle"]
PASSAGES = ["a", "a", "b", "a", "a", "b"]


def test_named_rows_are_the_matching_queries():
    assert drop.rows_to_drop(QUERIES, PASSAGES, NAMES, None, seed=0) == [0, 2, 4]


def test_the_random_control_drops_as_many_rows_per_passage_and_is_seeded():
    rows = drop.rows_to_drop(QUERIES, PASSAGES, NAMES, "random", seed=0)
    assert [PASSAGES[i] for i in rows].count("a") == 2 and [PASSAGES[i] for i in rows].count("b") == 1
    assert len(set(rows)) == 3
    assert drop.rows_to_drop(QUERIES, PASSAGES, NAMES, "random", seed=0) == rows
    draws = {tuple(drop.rows_to_drop(QUERIES, PASSAGES, NAMES, "random", seed=s)) for s in range(10)}
    assert len(draws) > 1  # not always the named rows


def _work(tmp_path):
    return downstream_work_dir(tmp_path, QUERIES, PASSAGES)


def test_the_copy_holds_only_the_unnamed_pairs_and_the_draw_is_untouched(tmp_path):
    work = _work(tmp_path)
    counts = drop.copy_without(work, tmp_path / "out", NAMES, None, seed=0)
    assert counts == {"pairs": 6, "named": 3, "dropped": 3, "kept": 3, "passages": 2, "passages_kept": 2}
    kept = pd.read_parquet(drop.pairs_file(tmp_path / "out" / "data"))
    assert kept["query"].tolist() == ["history size", "prompt colours", "IMAP idle"]
    assert (tmp_path / "out" / "fewshot.jsonl").is_file()
    assert len(pd.read_parquet(drop.pairs_file(work / "data"))) == 6


def test_a_pattern_that_matches_every_pair_or_none_is_refused_in_one_line(tmp_path):
    with pytest.raises(SystemExit, match="matches every pair"):
        drop.copy_without(_work(tmp_path), tmp_path / "out", re.compile("."), None, seed=0)
    with pytest.raises(SystemExit, match="matches no pair"):
        drop.copy_without(_work(tmp_path / "b"), tmp_path / "out", re.compile("nowhere"), None, seed=0)
    with pytest.raises(SystemExit, match="not a benchmarks/downstream.py work dir"):
        drop.copy_without(tmp_path / "nowhere", tmp_path / "out", NAMES, None, seed=0)


def test_a_bad_pattern_or_bad_seeds_are_one_line(capsys):
    with pytest.raises(SystemExit, match="--pattern: not a regular expression"):
        drop.main(["--work-dir", "w", "--devset", "d", "--tag", "t", "--pattern", "("])
    with pytest.raises(SystemExit):
        drop.main(["--work-dir", "w", "--devset", "d", "--tag", "t", "--pattern", "zsh", "--seeds", "0,x"])
    assert "argument --seeds: expected comma-separated integers, e.g. 0,1,2 (got '0,x')" in capsys.readouterr().err
