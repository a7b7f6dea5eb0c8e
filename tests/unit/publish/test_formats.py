"""Every trainer format from a planted run dir (known pairs, mined and LLM negatives, graded
documents), published and read back with `datasets` and the BEIR reader."""

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from datasets import load_dataset

from data_schemas.config import RunConfig
from synthir.io.beir import read_beir
from synthir.io.files import write_json_atomic, write_jsonl_atomic
from synthir.publish.hf import publish, split_of
from synthir.runpaths import prepare_run
from synthir.stages import CORPUS_SCHEMA

PROV = {"generator": "g", "template": "t.j2", "template_sha256": "0" * 64, "examples_sha256": "1" * 64,
        "model": "m", "backend": "b", "sampling": {"temperature": 0.0}, "seed": 0}


def _ids_for_both_splits(fraction: float) -> list[str]:
    """Eight passage ids, at least two of them in dev and two in train."""
    ids = [f"p{i}" for i in range(40)]
    dev = [i for i in ids if split_of(i, fraction) == "dev"][:2]
    train = [i for i in ids if split_of(i, fraction) == "train"][:6]
    return train + dev


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    root = tmp_path_factory.mktemp("planted") / "out"
    cfg = RunConfig.model_validate({
        "corpus": {"path": str(root / "unused.jsonl")}, "mining": {"num_negatives": 2},
        "output": {"dir": str(root), "dev_fraction": 0.3, "license": "cc-by-sa-4.0"}})
    paths = prepare_run(cfg, {"query/promptagator.j2": "a" * 64})
    ids = _ids_for_both_splits(0.3)
    corpus = [{"id": i, "title": f"T{i}", "text": f"passage {i} text", "lang": "en"} for i in ids]
    pq.write_table(pa.Table.from_pylist(corpus, schema=CORPUS_SCHEMA), paths.corpus)
    write_jsonl_atomic(paths.ingest / "rejected.jsonl", [])
    write_json_atomic(paths.ingest / "stats.json", {
        "corpus": {"read": 8, "kept": 8}, "fingerprint": "x", "seconds": 0.1,
        "sample": {"seen": 8, "skipped": {}, "eligible": {"en": 8}, "sampled": 4, "sampled_by_lang": {"en": 4}}})
    positives = [ids[0], ids[1], ids[6], ids[7]]  # two train, two dev passages
    shard = paths.shards / "00000"
    write_jsonl_atomic(shard / "passages.jsonl", [c for c in corpus if c["id"] in positives])
    kept = [{"id": f"q{k}", "query": f"query {k}", "passage_id": pid, "query_lang": "en",
             "passage_lang": "en", "cross_lingual": False, "provenance": PROV,
             "roundtrip_rank": 1, "roundtrip_score": 0.9} for k, pid in enumerate(positives)]
    write_jsonl_atomic(shard / "kept.jsonl", kept)
    negs = [("q0", ids[2], 2, 0.7), ("q0", ids[3], 3, 0.6), ("q1", ids[2], 2, 0.5),
            ("q2", ids[4], 2, 0.8), ("q2", ids[5], 4, 0.4)]
    write_jsonl_atomic(shard / "negatives.jsonl", [
        {"id": f"n{k}", "query_id": q, "query": f"query {q[1]}", "lang": "en",
         "positive_id": positives[int(q[1])], "negative_id": n, "rank": r, "score": s,
         "positive_score": 0.9} for k, (q, n, r, s) in enumerate(negs)])
    docs = [{"id": f"g{lvl}", "kind": "graded", "level": lvl, "text": f"graded level {lvl}", "query_id": "q0",
             "query": "query 0", "passage_id": positives[0], "lang": "en", "provenance": PROV, "score": lvl / 4}
            for lvl in (3, 2, 1, 0)]
    docs.append({"id": "llmneg", "kind": "negative", "variant": "positive", "text": "looks relevant, is not",
                 "query_id": "q2", "query": "query 2", "passage_id": positives[2], "lang": "en",
                 "provenance": PROV, "score": 0.55})
    write_jsonl_atomic(shard / "verified_documents.jsonl", docs)
    return cfg, publish(cfg, paths), ids, positives


def test_every_published_config_loads_with_its_splits(planted):
    cfg, result, _, _ = planted
    root = str(cfg.output.dir)
    expected = {"pairs", "triplets", "ntuples", "graded", "graded_qrels", "tevatron", "flagembedding",
                "corpus", "queries", "qrels", "documents", "hard_negatives"}
    assert set(result["files"]) == expected  # rejected is empty here: not published
    for name, split_files in result["files"].items():
        ds = load_dataset(root, name)
        assert set(ds) == set(split_files)
        for split, n in result["splits"][name].items():
            assert (ds[split].num_rows if split in ds else 0) == n
    assert result["splits"]["pairs"] == {"train": 2, "dev": 2}
    assert result["splits"]["corpus"] == {"train": 8}
    card = (cfg.output.dir / "README.md").read_text(encoding="utf-8")
    assert "Licence: **cc-by-sa-4.0**" in card and "SentenceTransformerTrainer" in card
    assert 'load_dataset("' + root + '", "tevatron")' in card


def test_split_is_by_passage_and_ids_join_across_configs(planted):
    cfg, _, _, positives = planted
    root = str(cfg.output.dir)
    pairs = load_dataset(root, "pairs")
    for split in ("train", "dev"):
        assert {split_of(p, 0.3) for p in pairs[split]["positive_id"]} == {split}
        qids = set(pairs[split]["id"])
        assert set(load_dataset(root, "queries")[split]["_id"]) == qids
        assert set(load_dataset(root, "qrels")[split]["query-id"]) == qids
        assert set(load_dataset(root, "tevatron")[split]["query_id"]) == qids
        assert set(load_dataset(root, "hard_negatives")[split]["query_id"]) <= qids


def test_sentence_transformers_columns(planted):
    cfg, _, ids, _ = planted
    root = str(cfg.output.dir)
    tri = load_dataset(root, "triplets")
    assert tri["train"].column_names == ["anchor", "positive", "negative"]
    rows = [r for s in tri for r in tri[s]]
    # 5 mined + 1 verified LLM negative, each one row
    assert len(rows) == 6
    assert {"anchor": "query 2", "positive": f"passage {ids[6]} text", "negative": "looks relevant, is not"} in rows
    nt = load_dataset(root, "ntuples")
    assert nt["train"].column_names == ["anchor", "positive", "negative_1", "negative_2"]
    got = {r["anchor"]: (r["negative_1"], r["negative_2"]) for s in nt for r in nt[s]}
    # q1 has one negative only: no n-tuple; q2: mined first, then the LLM negative is the 3rd
    assert got == {"query 0": (f"passage {ids[2]} text", f"passage {ids[3]} text"),
                   "query 2": (f"passage {ids[4]} text", f"passage {ids[5]} text")}


def test_graded_tevatron_flagembedding(planted):
    cfg, _, ids, positives = planted
    root = str(cfg.output.dir)
    graded = load_dataset(root, "graded")["train"]
    assert [(r["doc_id"], r["score"], r["source"]) for r in graded] == [
        (positives[0], 3, "corpus"), ("g3", 3, "generated"), ("g2", 2, "generated"),
        ("g1", 1, "generated"), ("g0", 0, "generated")]
    gq = load_dataset(root, "graded_qrels")["train"]
    assert sorted(gq["score"]) == [0, 1, 2, 3, 3]
    tev = {r["query_id"]: r for s in ("train", "dev") for r in load_dataset(root, "tevatron")[s]}
    assert tev["q0"]["positive_passages"] == [{"docid": positives[0], "title": f"T{positives[0]}",
                                               "text": f"passage {positives[0]} text"}]
    assert [p["docid"] for p in tev["q0"]["negative_passages"]] == [ids[2], ids[3]]
    assert tev["q0"]["negative_passages"][0]["title"] == f"T{ids[2]}"
    assert [p["docid"] for p in tev["q2"]["negative_passages"]] == [ids[4], ids[5], "llmneg"]
    assert tev["q3"]["negative_passages"] == []
    fe = {r["query"]: r for s in ("train", "dev") for r in load_dataset(root, "flagembedding")[s]}
    assert fe["query 2"]["neg"] == [f"passage {ids[4]} text", f"passage {ids[5]} text", "looks relevant, is not"]
    assert fe["query 2"]["neg_scores"] == pytest.approx([0.8, 0.4, 0.55])
    assert fe["query 0"]["pos_scores"] == pytest.approx([0.9])


def test_beir_folder_reads_back(planted):
    cfg, _, ids, positives = planted
    beir = read_beir(cfg.output.dir / "beir")
    assert set(beir.corpus) == set(ids) and beir.corpus[ids[0]]["title"] == f"T{ids[0]}"
    assert set(beir.queries) == {"q0", "q1", "q2", "q3"}
    assert set(beir.qrels) == {"train", "dev"}
    merged = {q: d for split in beir.qrels.values() for q, d in split.items()}
    assert merged == {f"q{k}": {pid: 1} for k, pid in enumerate(positives)}
    header = (cfg.output.dir / "beir" / "qrels" / "train.tsv").read_text().splitlines()[0]
    assert header == "query-id\tcorpus-id\tscore"
    meta = json.loads((cfg.output.dir / "funnel.json").read_text())
    assert meta["splits"]["qrels"] == {"train": 2, "dev": 2}
