"""The real thing, small: embedded Gemma 3 270M, multilingual USE, FAISS, HF datasets."""

from collections import Counter

import pytest
from datasets import load_dataset

from synthir.cli import main
from synthir.pipeline import run
from tests.conftest import demo_config
from tests.malformed import write_malformed_corpus

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_run(wiki_corpus, real_llm, tmp_path_factory):
    out = tmp_path_factory.mktemp("e2e") / "out"
    cfg = demo_config(wiki_corpus, out, **{"sample.n": 6, "shard_size": 4})
    return cfg, run(cfg, progress=False)


def test_pairs_have_real_generated_queries(demo_run):
    cfg, result = demo_run
    pairs = load_dataset(str(cfg.output.dir), "pairs")["train"]
    assert len(pairs) > 0
    corpus = {r["_id"]: r for r in load_dataset(str(cfg.output.dir), "corpus")["train"]}
    assert len(corpus) == 200
    for row in pairs:
        assert row["query"].strip() and row["query"] != row["positive"]
        assert corpus[row["positive_id"]]["text"] == row["positive"]
        assert 1 <= row["roundtrip_rank"] <= cfg.roundtrip.top_k
        assert row["provenance"]["model"].startswith("gemma-3-270m")
        assert row["provenance"]["backend"] == "llamacpp"
        assert len(row["provenance"]["template_sha256"]) == 64
        assert row["cross_lingual"] == (row["query_lang"] != row["passage_lang"])
    qrels = load_dataset(str(cfg.output.dir), "qrels")["train"]
    queries = load_dataset(str(cfg.output.dir), "queries")["train"]
    assert sorted(qrels["query-id"]) == sorted(queries["_id"]) == sorted(pairs["id"])


def test_card_funnel_equals_row_counts(demo_run):
    cfg, result = demo_run
    f = result["funnel"]
    pairs = load_dataset(str(cfg.output.dir), "pairs")["train"]
    rejected = load_dataset(str(cfg.output.dir), "rejected")["train"]
    assert f["queries"]["prompts"] == 96  # 6 passages x 2 languages x 8 samples
    assert f["queries"]["roundtrip_kept"] == len(pairs)
    dropped = Counter((r["stage"], r["reason"]) for r in rejected)
    assert sum(n for reasons in f["dropped"].values() for n in reasons.values()) == len(rejected)
    for stage, reasons in f["dropped"].items():
        for reason, n in reasons.items():
            assert dropped[(stage, reason)] == n
    q = f["queries"]
    assert q["generated"] - q["parsed"] == sum(f["dropped"].get("parse", {}).values())
    assert q["parsed"] - q["filtered"] == sum(f["dropped"].get("filter", {}).values())
    assert q["filtered"] - q["roundtrip_kept"] == sum(f["dropped"].get("roundtrip", {}).values())
    assert sum(f["source_rank"].values()) == q["filtered"]
    for lang, c in f["by_language"].items():
        assert c["roundtrip_kept"] == sum(1 for r in pairs if r["query_lang"] == lang)
    card = (cfg.output.dir / "README.md").read_text(encoding="utf-8")
    assert (f"| **all** | {q['prompts']} | {q['generated']} | {q['parsed']} | {q['filtered']} | "
            f"{q['roundtrip_kept']} |") in card
    assert "query/promptagator.j2" in card and "config_name: rejected" in card
    assert "LLM: `gemma-3-270m-q4_k_m.gguf@sha256:" in card
    assert (f["tokens"]["completion"] > 0) and f["tokens"]["calls"] == 96


def test_rerun_resumes_and_cli_prints_summary(demo_run, capsys):
    cfg, result = demo_run
    before = {p.name: p.read_bytes() for p in (cfg.output.dir / "data").rglob("*.parquet")}
    rc = main(["run", "configs/demo.yaml", "--set", f"corpus.path={cfg.corpus.path}", "--set", "sample.n=6",
               "--set", "shard_size=4", "--out", str(cfg.output.dir), "--no-progress"])
    out = capsys.readouterr().out
    assert rc == 0
    assert f"dataset written to {cfg.output.dir}" in out and "prompts" in out
    assert {p.name: p.read_bytes() for p in (cfg.output.dir / "data").rglob("*.parquet")} == before


def test_different_config_in_same_dir_is_refused(demo_run, capsys):
    cfg, _ = demo_run
    rc = main(["run", "configs/demo.yaml", "--set", f"corpus.path={cfg.corpus.path}", "--set", "sample.n=5",
               "--out", str(cfg.output.dir), "--no-progress"])
    assert rc == 2 and "different config" in capsys.readouterr().err


def test_malformed_corpus_run_completes_and_counts_every_bad_row(tmp_path, real_llm):
    corpus = tmp_path / "bad.jsonl"
    expected = write_malformed_corpus(corpus)
    cfg = demo_config(corpus, tmp_path / "out", **{"sample.n": 3, "sample.min_chars": 20,
                                                   "languages": "[en]", "roundtrip.top_k": 3})
    result = run(cfg, progress=False)
    assert result["funnel"]["ingest"] == {"read": 60, "kept": 10, **expected}
    rejected = load_dataset(str(cfg.output.dir), "rejected")["train"]
    ingest = Counter(r["reason"] for r in rejected if r["stage"] == "ingest")
    assert ingest == expected
    assert result["rows"]["corpus"] == 10
    assert result["funnel"]["queries"]["prompts"] == 3 * 8  # 3 passages x 8 samples


def test_republish_to_same_dir_never_loads_stale_rows(demo_run):
    """`datasets` caches a local dir by folder name + card metadata: content-named files
    make a re-published dataset load its new rows. (The run's work files are not edited: a
    changed work file is refused by publish since the self-healing run dirs; a publish option
    that moves rows between splits changes the train rows legitimately.)"""
    from synthir.publish.hf import publish, split_of
    from synthir.rundir import RunDir

    cfg, result = demo_run
    paths = RunDir(cfg.output.dir)
    pairs = load_dataset(str(cfg.output.dir), "pairs")["train"]
    n_before = len(pairs)
    fraction = next((f for f in (0.5, 0.3, 0.7, 0.9) if any(split_of(p, f) == "dev" for p in pairs["positive_id"])), 0.9)
    expected = sum(split_of(p, fraction) == "train" for p in pairs["positive_id"])
    split_cfg = cfg.model_copy(update={"output": cfg.output.model_copy(update={"dev_fraction": fraction})})
    try:
        publish(split_cfg, paths)
        assert expected < n_before and len(load_dataset(str(cfg.output.dir), "pairs")["train"]) == expected
    finally:
        publish(cfg, paths)
    assert len(load_dataset(str(cfg.output.dir), "pairs")["train"]) == n_before
