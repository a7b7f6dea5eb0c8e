"""benchmarks/page_counts.py: a booklet page's id gives its page counts, and a kept query names
the wrong count only when it names a number and none of them is one of the page's counts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd

from tests.benchmark_scripts import load_benchmark

ROOT = Path(__file__).resolve().parents[3]
page_counts = load_benchmark("page_counts")


def test_page_counts_from_ids():
    assert page_counts.page_counts("es:evince/duplex-3pages") == {"3"}
    assert page_counts.page_counts("fr:evince/singlesided-9-12pages") == {"9", "12"}
    assert page_counts.page_counts("es:evince/duplex-npages") is None
    assert page_counts.page_counts("es:evince/print-booklet") is None


def test_count_run_flags_only_numbers_that_miss_the_page():
    pairs = [
        {"query": "Imprimir folleto de 4 páginas", "positive_id": "es:evince/duplex-3pages"},   # padded: wrong
        {"query": "Folleto de 3 páginas", "positive_id": "es:evince/duplex-3pages"},           # right
        {"query": "Livret de 10 pages", "positive_id": "fr:evince/singlesided-9-12pages"},     # wrong
        {"query": "Livret de 12 pages", "positive_id": "fr:evince/singlesided-9-12pages"},     # right
        {"query": "Imprimir un folleto", "positive_id": "es:evince/duplex-7pages"},            # no number
        {"query": "Múltiplo de 4", "positive_id": "es:evince/duplex-npages"},                  # not a numbered page
        {"query": "Rotar 90 grados", "positive_id": "es:eog/rotate"},                          # not a booklet page
    ]
    got = page_counts.count_run(pairs, numbered_pages=19)
    assert {k: v for k, v in got.items() if k != "wrong_examples"} == {
        "pairs": 7, "booklet_pairs": 5, "booklet_pages_covered": 3, "booklet_pages": 19,
        "with_number": 4, "wrong_number": 2}
    assert got["wrong_examples"] == ["es:evince/duplex-3pages: Imprimir folleto de 4 páginas",
                                     "fr:evince/singlesided-9-12pages: Livret de 10 pages"]


def test_script_writes_labels_not_paths_and_rejects_a_dir_without_pairs(tmp_path):
    devset = tmp_path / "dev"
    devset.mkdir()
    (devset / "corpus.jsonl").write_text("".join(
        json.dumps({"_id": i, "text": "t"}) + "\n"
        for i in ["es:evince/duplex-3pages", "es:evince/duplex-4pages", "es:eog/rotate"]))
    (devset / "queries.jsonl").write_text(json.dumps({"_id": "q1", "text": "Folleto de 3 páginas"}) + "\n")
    run = tmp_path / "run"
    (run / "data" / "pairs").mkdir(parents=True)
    pd.DataFrame({"query": ["Folleto de 4 páginas"], "positive_id": ["es:evince/duplex-3pages"]}).to_parquet(
        run / "data" / "pairs" / "train-00000.parquet")
    tag = "pytest-page-counts"
    dest = ROOT / "benchmarks" / "results" / f"page_counts-{tag}.json"
    try:
        done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "page_counts.py"), "--tag", tag,
                               "--run", f"x={run}", "--devset", str(devset)],
                              capture_output=True, text=True, cwd=ROOT)
        assert done.returncode == 0, done.stderr
        out = json.loads(dest.read_text(encoding="utf-8"))
        assert out["x"]["booklet_pages"] == 2 and out["x"]["wrong_number"] == 1
        assert str(tmp_path) not in dest.read_text(encoding="utf-8")
    finally:
        dest.unlink(missing_ok=True)
    bad = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "page_counts.py"), "--tag", tag,
                          "--run", f"x={tmp_path}", "--devset", str(devset)],
                         capture_output=True, text=True, cwd=ROOT)
    assert bad.returncode == 1 and f"{tmp_path.name}: no data/pairs/*.parquet" in bad.stderr
    assert "Traceback" not in bad.stderr
    assert not dest.exists()
    (devset / "corpus.jsonl").write_text('{"text": "no id"}\n')
    bad = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "page_counts.py"), "--tag", tag,
                          "--run", f"x={run}", "--devset", str(devset)],
                         capture_output=True, text=True, cwd=ROOT)
    assert bad.returncode == 1 and "is not BEIR jsonl with _id" in bad.stderr
    assert "Traceback" not in bad.stderr and not dest.exists()
