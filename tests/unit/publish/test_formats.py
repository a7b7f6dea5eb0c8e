"""Every trainer format from a planted run dir (known pairs, mined and LLM negatives, graded
documents), published and read back with `datasets` and the BEIR reader."""

import json

import pytest
from datasets import load_dataset

from synthir.io.beir import read_beir
from synthir.publish.hf import publish, split_of
from tests.planted import make_planted_run

@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    cfg, paths, ids, positives = make_planted_run(tmp_path_factory.mktemp("planted") / "out")
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
    # no path of this machine in the card: the output dir (outside the cwd) is its basename
    assert 'load_dataset("' + cfg.output.dir.name + '", "tevatron")' in card and root not in card


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
