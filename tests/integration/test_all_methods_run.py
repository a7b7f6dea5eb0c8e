"""configs/all.yaml for real, small: three query methods, then graded / negative / HyDE
documents for the kept queries only, published and loaded back with `datasets`."""

from collections import Counter

import pytest
from datasets import load_dataset

from synthir.config import load_config
from synthir.pipeline import run
from tests.conftest import REPO

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def all_run(wiki_corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("all") / "out"
    # all.yaml as shipped, made small: 3 passages, shorter documents, two graded levels
    docs = ("generation.documents=[{method: graded, levels: [3, 0], max_new_tokens: 96}, "
            "{method: negative, variant: query, max_new_tokens: 96}, "
            "{method: negative, variant: positive, max_new_tokens: 96}, {method: hyde, max_new_tokens: 96}]")
    cfg = load_config(REPO / "configs" / "all.yaml",
                      [f"corpus.path={wiki_corpus}", "sample.n=3", "shard_size=2", "sample.seed=5", docs], out)
    return cfg, run(cfg, progress=False)


def test_every_query_method_is_counted_and_published(all_run):
    cfg, result = all_run
    f = result["funnel"]
    assert set(f["by_method"]) == {"promptagator", "sap"}
    # 3 passages x 2 languages per query entry; promptagator has two entries (plain + typed)
    assert f["by_method"]["promptagator"]["prompts"] == 12 and f["by_method"]["sap"]["prompts"] == 6
    pairs = load_dataset(str(cfg.output.dir), "pairs")["train"]
    assert len(pairs) == f["queries"]["roundtrip_kept"] > 0
    for row in pairs:
        assert row["method"] in {"promptagator", "sap"}
        assert (row["summary"] is not None) == (row["method"] == "sap")
        if row["query_type"] is not None:
            assert row["query_type"] in {"keyword", "question", "claim"}
            assert row["length"] in {"short", "medium"}


def test_documents_only_for_kept_queries(all_run):
    cfg, result = all_run
    f = result["funnel"]
    pairs = load_dataset(str(cfg.output.dir), "pairs")["train"]
    docs = load_dataset(str(cfg.output.dir), "documents")["train"]
    kept = len(pairs)
    assert f["documents"]["graded"]["prompts"] == 2 * kept
    for name in ("negative_query", "negative_positive", "hyde"):
        assert f["documents"][name]["prompts"] == kept
    assert len(docs) == sum(d["verified"] for d in f["documents"].values())
    assert sum(d["parsed"] for d in f["documents"].values()) > 0
    assert set(docs["query_id"]) <= set(pairs["id"])
    kinds = Counter(docs["kind"])
    assert set(kinds) <= {"graded", "negative", "hyde"}
    for row in docs:
        assert (row["level"] is not None) == (row["kind"] == "graded")
        assert (row["variant"] is not None) == (row["kind"] == "negative")
        assert row["provenance"]["template"].startswith("documents/")
    rejected = load_dataset(str(cfg.output.dir), "rejected")["train"]
    doc_rej = [r for r in rejected if r["stage"] in ("documents", "verify")]
    assert len(doc_rej) == (sum(f["dropped"].get("documents", {}).values())
                            + sum(f["dropped"].get("verify", {}).values()))
    total_prompts = sum(d["prompts"] for d in f["documents"].values())
    assert len(docs) + len(doc_rej) == total_prompts  # every prompt is a record or a reason
    assert {r["reason"] for r in rejected if r["stage"] == "verify"} <= {
        "negative_too_close", "graded_order_violation"}
    card = (cfg.output.dir / "README.md").read_text(encoding="utf-8")
    assert "| document method | prompts | generated | parsed | verified |" in card
    assert "`sap`" in card and "`graded` (levels 3/0)" in card


def test_rerun_is_fully_cached_and_identical(all_run):
    cfg, result = all_run
    again = run(cfg, progress=False)
    assert again["rows"] == result["rows"]
    assert again["funnel"]["documents"] == result["funnel"]["documents"]


def test_mined_negatives_for_kept_pairs(all_run):
    cfg, result = all_run
    pairs = load_dataset(str(cfg.output.dir), "pairs")["train"]
    negs = load_dataset(str(cfg.output.dir), "hard_negatives")["train"]
    assert 0 < len(negs) <= 3 * len(pairs)
    assert set(negs["query_id"]) <= set(pairs["id"])
    positive = dict(zip(pairs["id"], pairs["positive_id"]))
    for n in negs:
        assert n["negative_id"] != positive[n["query_id"]]
        assert n["score"] <= n["positive_score"] * (1 - cfg.mining.relative_margin) + 1e-6


def test_every_published_config_of_a_real_run_loads(all_run):
    cfg, result = all_run
    assert {"pairs", "tevatron", "flagembedding", "corpus", "queries", "qrels"} <= set(result["files"])
    for name in result["files"]:
        ds = load_dataset(str(cfg.output.dir), name)
        assert {s: ds[s].num_rows for s in ds} == {s: n for s, n in result["splits"][name].items() if n}
    tev = load_dataset(str(cfg.output.dir), "tevatron")["train"]
    negs = load_dataset(str(cfg.output.dir), "hard_negatives")["train"]
    by_query = Counter(negs["query_id"])
    for row in tev:  # mined negatives (and verified LLM ones) reach the Tevatron rows
        assert len(row["negative_passages"]) >= by_query[row["query_id"]]
