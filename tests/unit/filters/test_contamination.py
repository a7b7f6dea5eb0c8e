"""Contamination guard: near-duplicates of eval queries / documents (rapidfuzz) are found,
labelled with their eval item, and the document path drops them in the verify stage."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from data_schemas.config import RunConfig
from data_schemas.run_options import ContaminationConfig
from synthir.errors import InputError
from synthir.filters.contamination import check, find_near_duplicates, load_eval_set
from synthir.io.files import read_jsonl, write_jsonl_atomic
from synthir.rundir import RunDir, ShardDir
from synthir.stages import run_stage
from synthir.stages.verify import VERIFY

PROV = {"generator": "graded", "template": "t.j2", "template_sha256": "0" * 64, "examples_sha256": "1" * 64,
        "model": "m", "backend": "b", "sampling": {}, "seed": 0}


def _beir(root: Path, queries: dict[str, str], corpus: dict[str, str]) -> Path:
    (root / "qrels").mkdir(parents=True)
    (root / "queries.jsonl").write_text("".join(json.dumps({"_id": k, "text": v}) + "\n" for k, v in queries.items()))
    (root / "corpus.jsonl").write_text("".join(json.dumps({"_id": k, "title": "", "text": v}) + "\n"
                                               for k, v in corpus.items()))
    (root / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n" + "".join(
        f"{q}\t{d}\t1\n" for q, d in zip(queries, corpus)))
    return root


def test_near_duplicates_of_targets_are_found_with_the_best_label():
    targets = (("ev:a", "what is the capital of france"), ("ev:b", "capital city of france what is it"),
               ("ev:c", "who wrote hamlet"))
    texts = ["What is the capital of France?", "who wrote Hamlet", "how do vaccines work", ""]
    hits = find_near_duplicates(texts, targets, 90, chunk=2)  # chunks: the best label still wins
    assert set(hits) == {0, 1}
    assert hits[0] == ("ev:a", 100.0) and hits[1][0] == "ev:c"
    assert find_near_duplicates(texts, (), 90) == {} and find_near_duplicates([], targets, 90) == {}


def test_check_against_a_beir_dir(tmp_path):
    d = _beir(tmp_path / "scifact", {"1": "Do vaccines cause autism?"}, {"10": "Vaccines do not cause autism."})
    cfg = ContaminationConfig(beir_dirs=[d])
    details, stats = check(["do vaccines cause autism", "do cats purr"], cfg, "queries")
    assert list(details) == [0] and "eval query scifact:1" in details[0]
    assert stats["checked"] == 2 and stats["dropped"] == 1 and stats["eval_queries"] == 1
    details, _ = check(["Vaccines do not cause autism!", "Vaccines are injections."], cfg, "documents")
    assert list(details) == [0] and "eval document scifact:10" in details[0]
    assert check(["anything"], ContaminationConfig(), "queries") == ({}, {})
    with pytest.raises(InputError, match="is not a BEIR dir: corpus.jsonl is missing"):
        load_eval_set((str(tmp_path / "nope"),))


def test_verify_stage_drops_documents_that_copy_the_eval_corpus(tmp_path):
    beir = _beir(tmp_path / "eval", {"1": "q"}, {"10": "The Amazon is the largest rainforest on Earth."})
    cfg = RunConfig.model_validate({"corpus": {"path": str(tmp_path / "c.jsonl")}, "verify": {"enabled": False},
                                    "contamination": {"beir_dirs": [str(beir)]},
                                    "output": {"dir": str(tmp_path / "out")}})
    shard = tmp_path / "out" / ".synthir" / "shards" / "00000"
    docs = [{"id": f"d{i}", "kind": "graded", "level": 3 - i, "text": t, "query_id": "q1", "query": "amazon",
             "passage_id": "p1", "lang": "en", "provenance": PROV}
            for i, t in enumerate(["The Amazon is the largest rain forest on Earth.",
                                   "Rainforests hold half of the world's species."])]
    write_jsonl_atomic(shard / "documents.jsonl", docs)
    stats = run_stage(VERIFY, cfg, RunDir(tmp_path / "out"), ShardDir(shard))
    assert [d["id"] for d in read_jsonl(shard / "verified_documents.jsonl")] == ["d1"]
    [rej] = read_jsonl(shard / "verify_rejected.jsonl")
    assert (rej["item_id"], rej["stage"], rej["reason"]) == ("d0", "verify", "eval_contamination")
    assert stats["contamination"]["dropped"] == 1 and stats["contamination"]["eval_documents"] == 1
