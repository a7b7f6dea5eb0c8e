"""Every `--seeds` (synthir eval and the benchmarks) is parsed by one function, `synthir.cli.seed_list`:
a bad list is argparse's one-line usage error, not a traceback; downstream.py's `--set` errors are one line."""

from __future__ import annotations

import argparse

import pytest

from synthir.cli import build_parser, seed_list
from tests.benchmark_scripts import load_benchmark

downstream = load_benchmark("downstream")
llm_teacher = load_benchmark("llm_teacher")
drop_named = load_benchmark("drop_named")


def test_seed_list_reads_integers_and_refuses_anything_else():
    assert seed_list("0,1,2") == [0, 1, 2] and seed_list("3") == [3] and seed_list("0, 1,") == [0, 1]
    for bad in ("0,x", "", ",", "1.5"):
        with pytest.raises(argparse.ArgumentTypeError, match="expected comma-separated integers"):
            seed_list(bad)


@pytest.mark.parametrize("argv", [
    ["eval", "ds", "--beir", "b", "--out", "o", "--seeds", "0,x"],
])
def test_synthir_eval_bad_seeds_is_a_usage_error(argv, capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(argv)
    assert "argument --seeds: expected comma-separated integers" in capsys.readouterr().err


def test_every_benchmark_with_seeds_gives_the_same_one_line_error(capsys):
    for main, argv in ((downstream.main, ["--devset", "d"]),
                       (llm_teacher.main, ["--dataset", "d", "--devset", "d"]),
                       (drop_named.main, ["--work-dir", "w", "--devset", "d", "--tag", "t", "--pattern", "zsh"])):
        with pytest.raises(SystemExit) as e:
            main([*argv, "--seeds", "1,two"])
        assert e.value.code == 2
        err = capsys.readouterr().err
        assert "argument --seeds: expected comma-separated integers, e.g. 0,1,2 (got '1,two')" in err
        assert "Traceback" not in err


def test_downstream_set_parses_the_type_trainoptions_declares_and_none_where_it_allows_none(monkeypatch):
    recipes = {k: dict(v) for k, v in downstream.STUDENT_RECIPES.items()}
    monkeypatch.setattr(downstream, "STUDENT_RECIPES", recipes)
    assert recipes["e5-small"]["chunk_rows"] is None  # synthir eval's default: chunks on a CPU, none on a GPU
    downstream.override(["e5-small.chunk_rows=0", "e5-small.freeze_layers=6", "minilm.chunk_rows=none"])
    assert recipes["e5-small"]["chunk_rows"] == 0 and recipes["e5-small"]["freeze_layers"] == 6
    assert recipes["minilm"]["chunk_rows"] is None
    with pytest.raises(SystemExit, match="freeze_layers takes int, got 'six'"):
        downstream.override(["e5-small.freeze_layers=six"])
    with pytest.raises(SystemExit, match="expected <student>.<key>=<value>"):
        downstream.override(["e5-small.no_such_key=1"])
    # typed by TrainOptions, not by the value the field holds now: a set field takes none again,
    # and a field with a value takes none where the type allows it
    downstream.override(["e5-small.chunk_rows=none", "e5-small.max_seq_length=none",
                         "e5-small.learning_rate=3e-5", "e5-small.precision=bf16"])
    assert recipes["e5-small"]["chunk_rows"] is None and recipes["e5-small"]["max_seq_length"] is None
    assert recipes["e5-small"]["learning_rate"] == 3e-5 and recipes["e5-small"]["precision"] == "bf16"
    with pytest.raises(SystemExit, match="chunk_rows takes none or int, got 'x'"):
        downstream.override(["e5-small.chunk_rows=x"])
    with pytest.raises(SystemExit, match="freeze_layers takes int, got 'none'"):
        downstream.override(["e5-small.freeze_layers=none"])
