"""benchmarks/published.py: the LABEL=DIR arguments, `pairs` rows and results file shared by
app_names, query_form, page_counts, top_hits and duplicate_keep."""

import pandas as pd
import pytest

from tests.benchmark_scripts import load_benchmark

published = load_benchmark("published")


def test_labels_name_dirs_and_a_bare_dir_only_where_allowed(tmp_path):
    assert published.labelled(["a=x/run", "b=y=z"]) == [("a", published.Path("x/run")), ("b", published.Path("y=z"))]
    assert published.labelled(["x/run1"], bare_ok=True) == [("run1", published.Path("x/run1"))]
    for bad in ("x/run1", "=x", "a="):
        with pytest.raises(SystemExit, match=f"expected LABEL=DIR, got {bad!r}"):
            published.labelled([bad])


def test_pair_rows_reads_every_file_in_name_order_and_refuses_a_dir_without(tmp_path):
    pairs = tmp_path / "ds" / "data" / "pairs"
    pairs.mkdir(parents=True)
    pd.DataFrame({"query": ["b"], "positive_id": ["p2"], "x": [1]}).to_parquet(pairs / "train-00001.parquet")
    pd.DataFrame({"query": ["a"], "positive_id": ["p1"], "x": [0]}).to_parquet(pairs / "train-00000.parquet")
    assert published.pair_rows(tmp_path / "ds", ["query", "positive_id"]) == [
        {"query": "a", "positive_id": "p1"}, {"query": "b", "positive_id": "p2"}]
    with pytest.raises(SystemExit, match="^empty: no data/pairs/\\*.parquet"):
        published.pair_rows(tmp_path / "empty", ["query"])


def test_top_hits_refuses_a_model_without_a_name_in_one_line(tmp_path):
    import subprocess
    import sys

    done = subprocess.run([sys.executable, str(published.Path(published.__file__).with_name("top_hits.py")),
                           "--beir", str(tmp_path), "--queries", "x", "--model", "e5-small", "--tag", "t"],
                          capture_output=True, text=True)
    assert done.returncode == 1 and "expected --model NAME=PATH, got 'e5-small'" in done.stderr
    assert "Traceback" not in done.stderr


def test_write_result_writes_utf8_json_under_results_and_prints_a_relative_path(tmp_path, monkeypatch, capsys):
    results = tmp_path / "benchmarks" / "results"
    results.mkdir(parents=True)
    monkeypatch.setattr(published, "RESULTS", results)
    dest = published.write_result("page_counts", "t", {"b": "páginas", "a": 1}, sort_keys=True)
    assert dest == results / "page_counts-t.json"
    assert dest.read_text(encoding="utf-8") == '{\n  "a": 1,\n  "b": "páginas"\n}\n'
    assert capsys.readouterr().out == "wrote benchmarks/results/page_counts-t.json\n"
