"""A planted, finished run dir (known pairs, mined and LLM negatives, graded documents) for
publish tests: no LLM, no embedder; the files the stages would have written."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from data_schemas.config import RunConfig
from synthir.io.files import write_json_atomic, write_jsonl_atomic
from synthir.publish.hf import split_of
from synthir.corpus_store import SCHEMA as CORPUS_SCHEMA
from synthir.dedup import Clusters
from synthir.rundir import RunDir, prepare_run

PROV = {"generator": "g", "template": "t.j2", "template_sha256": "0" * 64, "examples_sha256": "1" * 64,
        "model": "m", "backend": "b", "sampling": {"temperature": 0.0}, "seed": 0}


def _ids_for_both_splits(fraction: float) -> list[str]:
    """Eight passage ids, at least two of them in dev and two in train."""
    ids = [f"p{i}" for i in range(40)]
    dev = [i for i in ids if split_of(i, fraction) == "dev"][:2]
    train = [i for i in ids if split_of(i, fraction) == "train"][:6]
    return train + dev


def make_planted_run(root: Path, **output: object) -> tuple[RunConfig, RunDir, list[str], list[str]]:
    """A finished run dir at `root`: 8 corpus passages, 4 kept pairs (2 train, 2 dev at
    dev_fraction 0.3), 5 mined negatives, 4 graded documents and 1 LLM negative. Returns
    (cfg, paths, corpus ids, positive ids)."""
    cfg = RunConfig.model_validate({
        "corpus": {"path": str(root / "unused.jsonl")}, "mining": {"num_negatives": 2},
        "output": {"dir": str(root), "dev_fraction": 0.3, "license": "cc-by-sa-4.0", **output}})
    paths = prepare_run(cfg, {"query/promptagator.j2": "a" * 64})
    ids = _ids_for_both_splits(0.3)
    corpus = [{"id": i, "title": f"T{i}", "text": f"passage {i} text", "lang": "en"} for i in ids]
    pq.write_table(pa.Table.from_pylist(corpus, schema=CORPUS_SCHEMA), paths.corpus)
    write_jsonl_atomic(paths.ingest_rejected, [])
    paths.store.write_clusters(Clusters())  # no duplicates
    write_json_atomic(paths.marker("ingest"), {
        "stage": "ingest", "input_sha256": "", "complete": True,
        "corpus": {"read": 8, "kept": 8}, "fingerprint": "x", "seconds": 0.1,
        "sample": {"seen": 8, "skipped": {}, "eligible": {"en": 8}, "sampled": 4, "sampled_by_lang": {"en": 4}}})
    positives = [ids[0], ids[1], ids[6], ids[7]]  # two train, two dev passages
    shard = paths.shard(0)
    write_jsonl_atomic(shard.passages, [c for c in corpus if c["id"] in positives])
    kept = [{"id": f"q{k}", "query": f"query {k}", "passage_id": pid, "query_lang": "en",
             "passage_lang": "en", "cross_lingual": False, "provenance": PROV,
             "roundtrip_rank": 1, "roundtrip_score": 0.9} for k, pid in enumerate(positives)]
    write_jsonl_atomic(shard.kept, kept)
    negs = [("q0", ids[2], 2, 0.7), ("q0", ids[3], 3, 0.6), ("q1", ids[2], 2, 0.5),
            ("q2", ids[4], 2, 0.8), ("q2", ids[5], 4, 0.4)]
    write_jsonl_atomic(shard.negatives, [
        {"id": f"n{k}", "query_id": q, "query": f"query {q[1]}", "lang": "en",
         "positive_id": positives[int(q[1])], "negative_id": n, "rank": r, "score": s,
         "positive_score": 0.9} for k, (q, n, r, s) in enumerate(negs)])
    docs = [{"id": f"g{lvl}", "kind": "graded", "level": lvl, "text": f"graded level {lvl}", "query_id": "q0",
             "query": "query 0", "passage_id": positives[0], "lang": "en", "provenance": PROV, "score": lvl / 4}
            for lvl in (3, 2, 1, 0)]
    docs.append({"id": "llmneg", "kind": "negative", "variant": "positive", "text": "looks relevant, is not",
                 "query_id": "q2", "query": "query 2", "passage_id": positives[2], "lang": "en",
                 "provenance": PROV, "score": 0.55})
    write_jsonl_atomic(shard.verified_documents, docs)
    return cfg, paths, ids, positives


