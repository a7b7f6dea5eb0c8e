"""synthir examples: Promptagator's in-domain examples are drawn from the human-train part of
the same split `synthir eval --human-split` uses, never from its test part."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from synthir.cli import main
from synthir.errors import ConfigError, InputError
from synthir.eval.examples import human_train_examples
from synthir.eval.human import split_queries
from synthir.io.beir import write_beir
from synthir.prompting import read_examples


def _beir(root: Path, n: int = 40, lang: str | None = "fr") -> Path:
    qids = [f"q{i}" for i in range(n)]
    queries = [{"_id": q, "text": f"question {q}", **({"lang": lang} if lang else {})} for q in qids]
    write_beir(root, [{"_id": f"d{i}", "title": f"Page {i}", "text": ("mot " * 200) + f"doc {i}"} for i in range(n)],
               queries, {"test": [(q, f"d{i}", 1) for i, q in enumerate(qids)]})
    return root


def test_drawn_from_the_human_train_part_only_and_seeded(tmp_path):
    beir = _beir(tmp_path / "b")
    info = human_train_examples(beir, 8, tmp_path / "ex.jsonl", fraction=0.5, split_seed=3)
    hs = split_queries([f"q{i}" for i in range(40)], 0.5, 3)
    assert info["n"] == 8 and set(info["query_ids"]) <= set(hs.train) and not set(info["query_ids"]) & set(hs.test)
    assert info["train_queries"] == len(hs.train) and info["qrels_split"] == "test"
    rows, sha = read_examples(tmp_path / "ex.jsonl")
    assert [r["query"] for r in rows] == [f"question {q}" for q in info["query_ids"]] and len(sha) == 64
    assert all(r["lang"] == "fr" and r["passage"].startswith("Page ") and r["passage"].endswith(" …")
               and len(r["passage"]) <= 502 for r in rows)
    assert human_train_examples(beir, 8, tmp_path / "again.jsonl", 0.5, 3)["query_ids"] == info["query_ids"]
    assert human_train_examples(beir, 8, tmp_path / "s1.jsonl", 0.5, 3, seed=1)["query_ids"] != info["query_ids"]


def test_fewer_train_questions_than_asked_gives_all_of_them(tmp_path):
    beir = _beir(tmp_path / "b", n=6)
    hs = split_queries([f"q{i}" for i in range(6)], 0.5, 0)
    info = human_train_examples(beir, 8, tmp_path / "ex.jsonl")
    assert sorted(info["query_ids"]) == sorted(hs.train)


def test_bad_input_is_one_clear_error(tmp_path):
    beir = _beir(tmp_path / "b")
    with pytest.raises(ConfigError, match="1..8"):
        human_train_examples(beir, 9, tmp_path / "ex9.jsonl")
    assert not (tmp_path / "ex9.jsonl").exists()  # nothing half-written
    with pytest.raises(InputError, match="--lang"):
        human_train_examples(_beir(tmp_path / "nolang", lang=None), 4, tmp_path / "ex.jsonl")
    assert human_train_examples(_beir(tmp_path / "nolang2", lang=None), 4, tmp_path / "ex.jsonl", lang="de")["n"] == 4


def test_cli(tmp_path, capsys):
    beir = _beir(tmp_path / "b")
    assert main(["examples", str(beir), "--out", str(tmp_path / "ex.jsonl"), "--n", "4"]) == 0
    out = capsys.readouterr().out
    assert "wrote 4 examples" in out and "--human-split 0.5 --human-split-seed 0" in out
    assert len((tmp_path / "ex.jsonl").read_text().splitlines()) == 4
    assert main(["examples", str(tmp_path / "missing"), "--out", str(tmp_path / "x.jsonl")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a BEIR dir" in err
    json.loads((tmp_path / "ex.jsonl").read_text().splitlines()[0])
