"""benchmarks/duplicate_keep.py: both ways of keeping one copy of a query written for several
passages, the groups rebuilt from the filter's rejected rows, and one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from data_schemas.config import RunConfig
from data_schemas.records import Passage, Provenance, QueryRecord
from tests.benchmark_scripts import load_benchmark

ROOT = Path(__file__).resolve().parents[3]
duplicate_keep = load_benchmark("duplicate_keep")
PROV = Provenance(generator="t", template="t", template_sha256="0", examples_sha256="0", model="m",
                  backend="b", sampling={}, seed=0)
PASSAGES = {p: Passage(id=p, lang="es", text=f"Página {p} del manual de evince.")
            for p in ("duplex-14pages", "duplex-16pages", "rotate")}


def q(i: int, text: str, pid: str) -> QueryRecord:
    return QueryRecord(id=f"q{i}", query=text, passage_id=pid, query_lang="es", passage_lang="es",
                       cross_lingual=False, provenance=PROV)


def test_compare_counts_groups_changes_and_round_trip_survivors(tmp_path):
    cfg = RunConfig.model_validate({"corpus": {"path": str(tmp_path / "c.jsonl")}, "languages": ["es"],
                                    "filters": {"language_check": False}, "roundtrip": {"top_k": 2}})
    recs = [q(1, "Imprimir folleto de 16 páginas", "duplex-14pages"),
            q(2, "imprimir folleto de 16 páginas", "duplex-16pages"),
            q(3, "Girar una imagen", "rotate")]
    ranks = {"q1": (3, 0.4), "q2": (1, 0.7)}
    got = duplicate_keep.compare(recs, PASSAGES, cfg, lambda rs: [ranks[r.id] for r in rs])
    assert {k: v for k, v in got.items() if k != "groups"} == {
        "queries": 3, "kept_first": 2, "kept_roundtrip": 2, "cross_passage_groups": 1, "decided_differently": 1,
        "roundtrip_top_k": 2, "groups_passing_roundtrip": {"first": 0, "roundtrip": 1}}
    (group,) = got["groups"]
    assert group["changed"] and group["query"] == "imprimir folleto de 16 páginas"
    assert [(c["passage"], c["source_rank"], c["kept_first"], c["kept_roundtrip"]) for c in group["copies"]] == [
        ("duplex-16pages", 1, False, True), ("duplex-14pages", 3, True, False)]


def test_a_dir_without_a_run_is_a_one_line_error(tmp_path):
    bad = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "duplicate_keep.py"), "--tag", "pytest-dk",
                          "--run", f"x={tmp_path}"], capture_output=True, text=True, cwd=ROOT)
    assert bad.returncode == 1 and "holds no synthir run" in bad.stderr and "Traceback" not in bad.stderr
    assert not (ROOT / "benchmarks" / "results" / "duplicate_keep-pytest-dk.json").exists()
