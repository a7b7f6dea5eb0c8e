"""The yield recipe, for real and small (embedded Gemma on llama.cpp, multilingual USE, FAISS):
a bootstrap pilot picks in-domain few-shot examples from its round-trip kept pairs, the copy
probe runs the method with them on other passages, the main round samples several queries per
passage from the examples the probe did not retire, and `keep_per_passage` keeps the best."""

import json
from collections import Counter

import pytest
from datasets import load_dataset

from data_schemas.config import RunConfig
from data_schemas.records import BootstrapExample, PoolExample
from synthir.pipeline import run
from synthir.rundir import RunDir, read_records

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def yield_run(wiki_corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("yield") / "out"
    cfg = RunConfig.model_validate({
        "corpus": {"path": str(wiki_corpus)}, "sample": {"n": 5, "seed": 3, "languages": ["en"]},
        "languages": ["en"],
        "llm": {"backend": "llamacpp", "model": "embedded", "temperature": 0.8, "top_p": 0.95,
                "max_new_tokens": 32},
        "generation": {"queries": [{"method": "promptagator", "num_examples": 2, "example_selection": "sample",
                                    "num_queries": 5, "examples": "bootstrap", "bootstrap_passages": 5,
                                    "example_probe": 3}]},
        "roundtrip": {"top_k": 5, "keep_per_passage": 1},
        "output": {"dir": str(out)}})
    return cfg, run(cfg, progress=False)


def test_bootstrap_examples_come_from_the_pilot_and_feed_the_main_round(yield_run):
    cfg, result = yield_run
    rd = RunDir(cfg.output.dir)
    marker = rd.marker("bootstrap").read_text(encoding="utf-8")
    examples = read_records(rd.bootstrap_examples, BootstrapExample)
    assert '"pilot_prompts": 5' in marker and examples, marker
    assert all(e.roundtrip_rank <= cfg.roundtrip.top_k and e.lang == "en" for e in examples)
    assert len({e.passage_id for e in examples}) == len(examples)
    pool = read_records(rd.example_pools, PoolExample)
    assert {e.id for e in pool} == {e.id for e in examples}  # the probe keeps the pilot's ids
    ids = {e.id for e in pool if not e.retired}
    pairs = load_dataset(str(cfg.output.dir), "pairs")["train"]
    assert len(pairs) > 0
    for row in pairs:  # every main-round prompt drew its examples from the probed bootstrap pool
        shown = row["provenance"]["examples"]
        assert shown and set(shown) <= ids, shown
    assert result["funnel"]["tokens_by_stage"]["bootstrap"]["calls"] == 25  # 5 passages x 5 samples


def test_the_copy_probe_ran_on_other_passages_and_counted_its_copies(yield_run):
    cfg, result = yield_run
    rd = RunDir(cfg.output.dir)
    en = json.loads(rd.marker("probe").read_text(encoding="utf-8"))["methods"]["0"]["en"]
    assert 1 <= en["rounds"] <= 3 and en["completions"] == en["rounds"] * 3 * 5  # 3 passages x 5 samples
    pool = read_records(rd.example_pools, PoolExample)
    assert en["retired"] == sum(e.retired for e in pool) and en["copies"] == sum(e.copies for e in pool)
    assert result["funnel"]["tokens_by_stage"]["probe"]["calls"] == en["completions"]


def test_keep_per_passage_keeps_one_pair_per_passage_and_counts_the_rest(yield_run):
    cfg, result = yield_run
    pairs = load_dataset(str(cfg.output.dir), "pairs")["train"]
    per_passage = Counter((r["positive_id"], r["query_lang"]) for r in pairs)
    assert set(per_passage.values()) == {1}
    dropped = result["funnel"]["dropped"]["roundtrip"]
    rejected = load_dataset(str(cfg.output.dir), "rejected")["train"]
    assert dropped.get("not_selected", 0) == sum(1 for r in rejected if r["reason"] == "not_selected")
    assert dropped.get("not_selected", 0) > 0  # 5 samples per passage: some were not selected
