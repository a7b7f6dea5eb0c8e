"""benchmarks/query_form.py: the form of a published dataset's pairs, per method/language."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from synthir.query_form import form
from tests.benchmark_scripts import load_benchmark

query_form = load_benchmark("query_form")


def test_pairs_are_grouped_by_method_and_language(tmp_path):
    (tmp_path / "ds" / "data" / "pairs").mkdir(parents=True)
    rows = [("Wie drucke ich?", "promptagator", "de"), ("Drucken", "sap", "de"),
            ("Druckvorschau öffnen", "sap", "de"), ("¿Cómo imprimo?", "promptagator", "es")]
    pq.write_table(pa.table({"query": [r[0] for r in rows], "method": [r[1] for r in rows],
                             "query_lang": [r[2] for r in rows], "positive": ["p"] * 4}),
                   tmp_path / "ds" / "data" / "pairs" / "train-00000-of-00001.parquet")
    assert query_form.dataset_forms(tmp_path / "ds") == {
        "promptagator/de": form(["Wie drucke ich?"]), "promptagator/es": form(["¿Cómo imprimo?"]),
        "sap/de": form(["Drucken", "Druckvorschau öffnen"])}


def test_a_dir_without_pairs_is_a_one_line_error(tmp_path):
    with pytest.raises(SystemExit, match="no data/pairs"):
        query_form.dataset_forms(tmp_path)
