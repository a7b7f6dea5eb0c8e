"""benchmarks/downstream.py --fewshot-human: Promptagator's in-domain examples come from the
human-TRAIN half of the eval's split only, as a valid examples_file the query generator reads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from synthir.eval.human import split_queries
from synthir.io.beir import write_beir

from tests.benchmark_scripts import load_benchmark

ROOT = Path(__file__).resolve().parents[3]
downstream = load_benchmark("downstream")


def _devset(root: Path, n: int = 40) -> Path:
    qids = [f"q{i}" for i in range(n)]
    write_beir(root, [{"_id": f"d{i}", "title": "", "text": ("word " * 200) + f"doc {i}"} for i in range(n)],
               [{"_id": q, "text": f"question {q}", "lang": "de"} for q in qids],
               {"test": [(q, f"d{i}", 1) for i, q in enumerate(qids)]})
    (root / "devset.json").write_text(json.dumps({"langs": ["de"]}))
    return root


def test_examples_are_human_train_questions_only(tmp_path):
    dev = _devset(tmp_path / "dev")
    info = downstream.fewshot_examples(dev, 8, tmp_path / "w" / "fewshot.jsonl")
    hs = split_queries([f"q{i}" for i in range(40)], 0.5, 0)
    assert info["n"] == 8 and set(info["query_ids"]) <= set(hs.train)
    assert not set(info["query_ids"]) & set(hs.test)  # never a test question
    rows = [json.loads(line) for line in (tmp_path / "w" / "fewshot.jsonl").open()]
    assert [r["query"] for r in rows] == [f"question {q}" for q in info["query_ids"]]
    assert all(r["lang"] == "de" and len(r["passage"]) <= 502 and r["passage"].endswith(" …") for r in rows)
    again = downstream.fewshot_examples(dev, 8, tmp_path / "w2" / "fewshot.jsonl")
    assert again["query_ids"] == info["query_ids"]  # seeded
    assert downstream.fewshot_examples(dev, 8, tmp_path / "w3" / "f.jsonl", seed=1)["query_ids"] != info["query_ids"]


def test_the_file_is_a_valid_examples_file_of_the_recipe(tmp_path):
    from synthir.config import load_config
    from synthir.prompting import read_examples

    dev = _devset(tmp_path / "dev")
    downstream.fewshot_examples(dev, 8, tmp_path / "fewshot.jsonl")
    rows, sha = read_examples(tmp_path / "fewshot.jsonl")
    assert len(rows) == 8 and len(sha) == 64
    cfg = load_config(ROOT / "configs" / "downstream_copy_penalty.yaml",
                      [f"generation.queries[0].examples_file={tmp_path / 'fewshot.jsonl'}"])
    assert cfg.generation.queries[0].examples_file == str(tmp_path / "fewshot.jsonl")


def test_recipe_overrides_reach_the_run_config(tmp_path, monkeypatch):
    """--recipe-set: the overrides are applied after the dev set's own settings."""
    import synthir.pipeline

    dev = _devset(tmp_path / "dev")
    (dev / "passages.jsonl").write_text("".join(json.dumps({"id": f"d{i}", "text": "x"}) + "\n" for i in range(3)))
    seen = {}

    def fake_run(cfg, progress=False):
        seen["cfg"] = cfg
        raise RuntimeError("stop here")

    monkeypatch.setattr(synthir.pipeline, "run", fake_run)
    with pytest.raises(RuntimeError, match="stop here"):
        downstream.generate(dev, ROOT / "configs" / "downstream_copy_penalty.yaml", tmp_path / "w",
                            recipe_sets=["embedder.name=e5-small", "roundtrip.top_k=3"])
    cfg = seen["cfg"]
    assert (cfg.embedder.name, cfg.roundtrip.top_k, cfg.sample.n, cfg.languages) == ("e5-small", 3, 3, ["de"])


def test_kept_pairs_are_the_published_ones_after_the_judge():
    # with a judge stage the round trip's count overstates the pairs published
    assert downstream.published_pairs({"roundtrip_kept": 220, "judge_kept": 184}) == 184
    assert downstream.published_pairs({"roundtrip_kept": 136}) == 136  # funnels without the judge key


def test_every_method_gets_the_examples_and_sap_a_summarized_copy(tmp_path, monkeypatch):
    """--fewshot-human with configs/downstream_mixed.yaml (Promptagator + SAP in one run): both
    methods are shown the same human-train examples; SAP's file is a copy that gets summaries,
    so Promptagator's prompts stay those of a Promptagator-only run."""
    import synthir.generators.summaries
    import synthir.pipeline

    dev = _devset(tmp_path / "dev")
    (dev / "passages.jsonl").write_text("".join(json.dumps({"id": f"d{i}", "text": "x"}) + "\n" for i in range(3)))
    summarized = []

    def fake_summarize(path, cfg):
        summarized.append(path)
        return [{"summary": "s", "summary_prompt_sha256": "0" * 64}]

    def fake_run(cfg, progress=False):
        raise RuntimeError([m.examples_file for m in cfg.generation.queries])

    monkeypatch.setattr(synthir.generators.summaries, "summarize_file", fake_summarize)
    monkeypatch.setattr(synthir.pipeline, "run", fake_run)
    with pytest.raises(RuntimeError) as err:
        downstream.generate(dev, ROOT / "configs" / "downstream_mixed.yaml", tmp_path / "w", fewshot=8)
    plain = tmp_path / "w" / "dev" / "fewshot.jsonl"
    copy = plain.with_name("fewshot-sap.jsonl")
    assert err.value.args[0] == [str(plain), str(copy)] and summarized == [copy]
    assert copy.read_text() == plain.read_text()  # the fake summarizer wrote nothing


def test_a_sap_only_recipe_summarizes_the_examples_file_itself(tmp_path, monkeypatch):
    import synthir.generators.summaries
    import synthir.pipeline

    dev = _devset(tmp_path / "dev")
    (dev / "passages.jsonl").write_text("".join(json.dumps({"id": f"d{i}", "text": "x"}) + "\n" for i in range(3)))
    summarized = []
    monkeypatch.setattr(synthir.generators.summaries, "summarize_file",
                        lambda path, cfg: summarized.append(path) or [{"summary": "s", "summary_prompt_sha256": "0"}])
    monkeypatch.setattr(synthir.pipeline, "run",
                        lambda cfg, progress=False: (_ for _ in ()).throw(
                            RuntimeError([m.examples_file for m in cfg.generation.queries])))
    with pytest.raises(RuntimeError) as err:
        downstream.generate(dev, ROOT / "configs" / "downstream_fixed_prompt.yaml", tmp_path / "w", fewshot=8,
                            recipe_sets=["generation.queries[0].method=sap", "generation.queries[0].structured=true"])
    plain = tmp_path / "w" / "dev" / "fewshot.jsonl"
    assert err.value.args[0] == [str(plain)] and summarized == [plain]
    assert not plain.with_name("fewshot-sap.jsonl").exists()
