"""benchmarks/app_names.py: a query names an application in any of the dev sets' languages, and
names the wrong one only when none of its names is its passage's application."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.benchmark_scripts import load_benchmark

ROOT = Path(__file__).resolve().parents[3]
app_names = load_benchmark("app_names")


def test_tally_counts_named_and_wrong_applications():
    rows = [
        ("Ouvrir un document dans Gedit", "fr:evince/opening"),          # wrong
        ("Ouvrir un document dans le Visionneur de documents", "fr:evince/opening"),  # right
        ("Bild im Bildbetrachter drehen", "de:eog/rotate"),              # right
        ("Formularios en el visor de documentos", "es:eog/formats"),     # wrong
        ("Imprimir un folleto", "es:evince/duplex-8pages"),              # none named
        ("gedit or the Image Viewer?", "en:eog/open"),                   # one of two names is right
    ]
    assert app_names.tally(rows) == {"n": 6, "named": 5, "wrong": 2}


def test_run_counts_reads_parsed_shards_and_kept_pairs(tmp_path):
    shard = tmp_path / ".synthir" / "shards" / "00000"
    shard.mkdir(parents=True)
    parsed = [{"query": "Rotation d'une image dans gedit", "passage_id": "fr:eog/rotate"},
              {"query": "Rotation d'une image", "passage_id": "fr:eog/rotate"}]
    (shard / "queries.jsonl").write_text("".join(json.dumps(r) + "\n" for r in parsed))
    (tmp_path / "data" / "pairs").mkdir(parents=True)
    pd.DataFrame({"query": ["Rotation d'une image"], "positive_id": ["fr:eog/rotate"]}).to_parquet(
        tmp_path / "data" / "pairs" / "train-00000.parquet")
    assert app_names.run_counts(tmp_path) == {"parsed": {"n": 2, "named": 1, "wrong": 1},
                                              "kept": {"n": 1, "named": 0, "wrong": 0}}


def test_a_dir_without_a_run_is_a_one_line_error(tmp_path):
    with pytest.raises(SystemExit, match="no generate shards"):
        app_names.run_counts(tmp_path)
    shard = tmp_path / ".synthir" / "shards" / "00000"
    shard.mkdir(parents=True)
    (shard / "queries.jsonl").write_text(json.dumps({"query": "q", "passage_id": "p"}) + "\n")
    with pytest.raises(SystemExit, match="no data/pairs/"):
        app_names.run_counts(tmp_path)
    with pytest.raises(SystemExit, match="expected LABEL=DIR, got 'nolabel'"):
        app_names.main(["--tag", "t", "--run", "nolabel"])


def test_human_questions_and_results_carry_labels_not_paths(tmp_path, monkeypatch):
    dev = tmp_path / "dev"
    dev.mkdir()
    (dev / "queries.jsonl").write_text(json.dumps({"_id": "q1", "text": "Utiliser gedit"}) + "\n"
                                       + json.dumps({"_id": "q2", "text": "Licence"}) + "\n")
    assert app_names.human_counts(dev) == {"n": 2, "named": 1}
    (tmp_path / "benchmarks" / "results").mkdir(parents=True)
    monkeypatch.setattr(sys.modules["published"], "RESULTS", tmp_path / "benchmarks" / "results")
    assert app_names.main(["--tag", "t", "--human", f"fr={dev}"]) == 0
    out = (tmp_path / "benchmarks" / "results" / "app_names-t.json").read_text()
    assert json.loads(out) == {"human": {"fr": {"n": 2, "named": 1}}, "runs": {}}
    assert str(tmp_path) not in out
