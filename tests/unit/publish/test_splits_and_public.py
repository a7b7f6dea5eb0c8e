"""Split groups (duplicate clusters and documents stay on one side) and no local path in what
is published, on a planted run dir."""

import json

import pyarrow.parquet as pq
from datasets import load_dataset

from data_schemas.records import QueryRecord
from synthir.dedup import Clusters
from synthir.io.files import write_jsonl_atomic
from synthir.publish.hf import build_tables, publish, split_of
from synthir.publish.public import public_config, public_path, public_text
from synthir.publish.splits import group_keys
from synthir.rundir import read_records
from tests.planted import make_planted_run


def test_group_keys_join_clusters_and_documents():
    key = group_keys({"a": "a", "b": "a"}, {"b": "doc1", "c": "doc1", "x": "doc2", "y": "doc2"})
    assert key("a") == key("b") == key("c") == "a"
    assert key("x") == key("y") == "x" and key("alone") == "alone"


def test_a_cluster_lands_on_one_side_of_the_split(tmp_path):
    cfg, paths, ids, positives = make_planted_run(tmp_path / "out")
    train_pos, dev_pos = positives[0], positives[2]
    assert split_of(train_pos, 0.3) == "train" and split_of(dev_pos, 0.3) == "dev"
    tables, _ = build_tables(cfg, paths)
    assert any(r["positive_id"] == dev_pos for r in tables["pairs"]["dev"])
    # the two positives are duplicates of each other: one group, one split (the group key's)
    paths.store.write_clusters(Clusters(cluster_of={train_pos: train_pos, dev_pos: train_pos},
                                        kind={train_pos: "near"}))
    tables, _ = build_tables(cfg, paths)
    side = split_of(min(train_pos, dev_pos), 0.3)
    rows = [r for s in ("train", "dev") for r in tables["pairs"][s] if r["positive_id"] in (train_pos, dev_pos)]
    assert len(rows) == 2 and all(r in tables["pairs"][side] for r in rows)
    assert {r["cluster_id"] for r in rows} == {train_pos}
    result = publish(cfg, paths)
    corpus = load_dataset(str(paths.root), "corpus")["train"]
    by_id = {r["_id"]: r for r in corpus}
    assert by_id[dev_pos]["cluster_id"] == train_pos and by_id[ids[3]]["cluster_id"] == ids[3]
    assert by_id[dev_pos]["doc_id"] == dev_pos
    assert result["rows"]["pairs"] == 4


def test_public_paths():
    assert public_path("/home/me/models/x.gguf") == "x.gguf"
    assert public_path("relative/dir") == "relative/dir"
    assert public_text("st:/data/models/bge-m3:abcd") == "st:bge-m3:abcd"
    assert public_text("qwen@http://127.0.0.1:8000/v1") == "qwen@http://127.0.0.1:8000/v1"
    assert public_config({"a": ["/srv/c.jsonl", 3], "b": {"c": "~/x/y"}}) == {"a": ["c.jsonl", 3], "b": {"c": "y"}}


def test_nothing_published_names_a_local_path(tmp_path):
    cfg, paths, _, _ = make_planted_run(tmp_path / "out")
    local_model = "/home/someone/models/secret-model/model.gguf"
    shard = paths.shard(0)
    kept = [r.model_copy(update={"provenance": r.provenance.model_copy(update={"model": local_model})})
            for r in read_records(shard.kept, QueryRecord)]
    write_jsonl_atomic(shard.kept, kept)
    publish(cfg, paths)
    root = paths.root
    texts = [(root / "README.md").read_text(), (root / "funnel.json").read_text()]
    texts += [p.read_text() for p in (root / "beir").rglob("*") if p.is_file()]
    texts += [json.dumps(pq.read_table(p).to_pylist(), default=str) for p in (root / "data").rglob("*.parquet")]
    for text in texts:
        assert str(tmp_path) not in text and "/home/someone" not in text
    pairs = load_dataset(str(root), "pairs")
    assert {r["provenance"]["model"] for s in pairs for r in pairs[s]} == {"model.gguf"}
    card = (root / "README.md").read_text()
    assert "path: unused.jsonl" in card and f"dir: {root.name}" in card


def test_the_card_says_which_passages_the_llm_saw_cut(tmp_path):
    """sample.too_long: head: the card names how many sampled passages the prompts showed cut."""
    from synthir.io.files import write_json_atomic

    cfg, paths, _, _ = make_planted_run(tmp_path / "out")
    publish(cfg, paths)
    assert "the LLM saw their first" not in (paths.root / "README.md").read_text()
    marker = json.loads(paths.marker("ingest").read_text())
    marker["sample"]["cut_for_prompt"] = 2
    write_json_atomic(paths.marker("ingest"), marker)
    publish(cfg, paths)
    card = (paths.root / "README.md").read_text()
    assert (f"2 of them are longer than {cfg.sample.max_chars} characters: the LLM saw their first "
            f"{cfg.sample.max_chars} (`sample.too_long: head`)") in card
