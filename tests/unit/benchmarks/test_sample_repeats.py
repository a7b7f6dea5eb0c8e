"""benchmarks/sample_repeats.py: repeats are counted per (method, passage, language); sample
pairs only where every sample parsed (so a position is a sample index); bad input is one line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.benchmark_scripts import load_benchmark

ROOT = Path(__file__).resolve().parents[3]
sample_repeats = load_benchmark("sample_repeats")


def _row(passage, query, n=4, lang="en", method="promptagator", scheme=None):
    sampling = {"n": n, **({"sample_seeds": scheme} if scheme else {})}
    return {"passage_id": passage, "query": query, "query_lang": lang, "method": method,
            "provenance": {"sampling": sampling}}


def test_repeats_and_equal_sample_pairs():
    rows = ([_row("p1", q) for q in ("a", "b", "a", "b")]          # all 4 parsed: pairs (0,2), (1,3)
            + [_row("p2", q) for q in ("c", "d", "c", "e")]        # all parsed: (0,2)
            + [_row("p3", q) for q in ("f", "f", "g")]             # one failed to parse: a repeat, no pairs
            + [_row("p1", "a", lang="fr")]                         # another language: its own prompt
            + [_row("p1", "a", method="sap", scheme="sha256(seed,k,prompt)")])
    got = sample_repeats.count_repeats(rows)
    assert (got["prompts"], got["parsed"], got["repeats"], got["full"]) == (5, 13, 4, 2)
    assert got["repeat_share"] == round(4 / 13, 4) and got["equal_pairs"] == 3
    assert got["top_pairs"][0] == [[0, 2], 2] and [[1, 3], 1] in got["top_pairs"]
    assert got["sample_seeds"] == {"seed+k": 12, "sha256(seed,k,prompt)": 1}


def test_a_run_dir_is_read_shard_by_shard_and_bad_input_is_one_line(tmp_path):
    for shard, rows in (("00000", [_row("p1", "a", n=2), _row("p1", "a", n=2)]), ("00001", [_row("p2", "b", n=2)])):
        d = tmp_path / "run" / ".synthir" / "shards" / shard
        d.mkdir(parents=True)
        (d / "queries.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    rows = sample_repeats.read_queries(tmp_path / "run")
    assert [r["passage_id"] for r in rows] == ["p1", "p1", "p2"]
    assert sample_repeats.count_repeats(rows)["top_pairs"] == [[[0, 1], 1]]
    (tmp_path / "empty").mkdir()
    r = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "sample_repeats.py"), "--tag", "t",
                        "--run", f"x={tmp_path / 'empty'}"], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode != 0 and "no parsed queries" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_kept_pairs_per_passage_from_a_published_pairs_config(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    (tmp_path / "data" / "pairs").mkdir(parents=True)
    pq.write_table(pa.table({"positive_id": ["p1", "p2", "p1", "p3", "p1", "p2"]}),
                   tmp_path / "data" / "pairs" / "train-0.parquet")
    got = sample_repeats.kept_per_passage(sample_repeats.pair_rows(tmp_path, ["positive_id"]))
    assert got == {"pairs": 6, "passages": 3, "per_passage": {"1": 1, "2": 1, "3": 1}}
