"""benchmarks/bag.py: one draw's pairs dealt into disjoint parts per passage, each part a dataset
copy that loads its own rows (not the whole draw's cached ones)."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.benchmark_scripts import downstream_work_dir, load_benchmark

bag = load_benchmark("bag")


def test_each_passage_is_dealt_across_the_parts_and_the_parts_are_disjoint():
    groups = ["a"] * 5 + ["b"] * 2 + ["c"] * 1 + ["d"] * 4
    parts = bag.deal(groups, 2, seed=0)
    assert sorted(parts[0] + parts[1]) == list(range(len(groups)))  # every row once
    assert abs(len(parts[0]) - len(parts[1])) <= 1
    for g in "abd":
        n = [sum(groups[i] == g for i in p) for p in parts]
        assert min(n) >= groups.count(g) // 2 and max(n) <= groups.count(g) // 2 + 1
    assert bag.deal(groups, 2, seed=0) == parts  # seeded
    assert bag.deal(groups, 2, seed=1) != parts or bag.deal(groups, 2, seed=2) != parts
    assert len(bag.deal(groups, 3, seed=0)) == 3
    with pytest.raises(SystemExit, match="--parts must be at least 2"):
        bag.deal(groups, 1, seed=0)


def _work(tmp_path, n=6):
    return downstream_work_dir(tmp_path, [f"q{i}" for i in range(n)], ["x", "x", "y", "y", "z", "z"][:n])


def test_part_copies_hold_only_their_rows_under_a_new_name_the_card_points_to(tmp_path):
    work = _work(tmp_path)
    made = bag.part_copies(work, tmp_path / "out", 2, seed=0)
    assert [m["pairs"] for m in made] == [3, 3] and [m["passages"] for m in made] == [3, 3]
    ids = []
    for m in made:
        f = bag.pairs_file(m["dir"] / "data")
        assert f.name != "train-00000-of-00001-0123456789ab.parquet"  # a new content-hashed name
        assert f"data/pairs/{f.name}" in (m["dir"] / "data" / "README.md").read_text()
        assert (m["dir"] / "fewshot.jsonl").is_file()
        ids += pd.read_parquet(f)["id"].tolist()
    assert sorted(ids) == [f"r{i}" for i in range(6)]  # disjoint, nothing lost
    assert len(pd.read_parquet(bag.pairs_file(work / "data"))) == 6  # the draw itself untouched


def test_the_parts_load_as_datasets_with_their_own_rows(tmp_path):
    pytest.importorskip("datasets")
    from datasets import load_dataset

    work = _work(tmp_path)
    assert len(load_dataset(str(work / "data"), "pairs", split="train")) == 6  # cached under dir name + card
    made = bag.part_copies(work, tmp_path / "out", 2, seed=0)
    assert [len(load_dataset(str(m["dir"] / "data"), "pairs", split="train")) for m in made] == [3, 3]


def test_a_dir_that_is_not_a_downstream_work_dir_is_refused_in_one_line(tmp_path):
    with pytest.raises(SystemExit, match="not a benchmarks/downstream.py work dir"):
        bag.part_copies(tmp_path, tmp_path / "out", 2, seed=0)
