"""`synthir dev-set` + `synthir eval` for real, small: the packaged MiniLM is evaluated on a
Wikipedia dev set (mono- and cross-lingual queries), fine-tuned on a published dataset, and
evaluated again; metrics come from ir-measures."""

from __future__ import annotations

import json

import pytest

from synthir.cli import main
from synthir.publish.hf import publish
from tests.planted import make_planted_run

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def devset(tmp_path_factory):
    out = tmp_path_factory.mktemp("dev") / "beir"
    assert main(["dev-set", "--langs", "en", "fr", "--out", str(out), "--queries-per-lang", "8",
                 "--cross-per-pair", "4", "--corpus-per-lang", "60", "--seed", "1"]) == 0
    return out


def test_dev_set_is_a_beir_dir_with_mono_and_cross_queries(devset):
    from synthir.io.beir import read_beir

    data = read_beir(devset)
    assert len(data.corpus) == 120 and len(data.queries) == 24
    [qrels] = data.qrels.values()
    for qid, rel in qrels.items():
        [(doc, grade)] = rel.items()
        assert grade == 1 and doc in data.corpus
        lang_q = json.loads(next(line for line in (devset / "queries.jsonl").open() if qid in line))["lang"]
        assert (data.corpus[doc]["lang"] != lang_q) == qid.startswith("x:")


def test_eval_base_vs_tuned(devset, tmp_path, capsys):
    cfg, paths, _, _ = make_planted_run(tmp_path / "data", dev_fraction=0.0)
    publish(cfg, paths)
    out = tmp_path / "eval"
    assert main(["eval", str(paths.root), "--beir", str(devset), "--out", str(out), "--batch-size", "4",
                 "--lr", "1e-3", "--epochs", "1"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics) == {"base", "tuned"}
    for side in metrics.values():
        assert set(side) == {"ndcg@10", "recall@100", "mrr@10"}
        assert all(0.0 <= v <= 1.0 for v in side.values())
    # known-item queries over 120 documents: the base model finds most in the top 100
    assert metrics["base"]["recall@100"] >= 0.5 and metrics["base"]["ndcg@10"] > 0.1
    groups = json.loads((out / "metrics_by_group.json").read_text())
    assert {"all", "mono", "cross", "lang:en", "lang:fr"} <= set(groups)
    info = json.loads((out / "eval.json").read_text())
    assert info["train_config"] == "triplets" and info["train_rows"] == 6 and info["train"]["steps"] == 2
    assert info["queries"] == {"all": 24, "mono": 16, "cross": 8, "lang:en": 12, "lang:fr": 12}
    printed = capsys.readouterr().out
    assert "delta" in printed and "cross" in printed and "metrics written to" in printed

    from sentence_transformers import SentenceTransformer

    from synthir.embed.st import model_source

    base, tuned = SentenceTransformer(model_source("minilm")), SentenceTransformer(str(out / "model"))
    a, b = base.encode(["when was it built"]), tuned.encode(["when was it built"])
    assert abs(a - b).max() > 1e-4  # the saved model is the fine-tuned one


def test_eval_input_errors_are_one_line(devset, tmp_path, capsys):
    assert main(["eval", str(tmp_path), "--beir", str(devset), "--out", str(tmp_path / "e")]) == 2
    assert "not a published synthir dataset" in capsys.readouterr().err
    cfg, paths, _, _ = make_planted_run(tmp_path / "data")
    publish(cfg, paths)
    assert main(["eval", str(paths.root), "--beir", str(tmp_path / "nope"), "--out", str(tmp_path / "e")]) == 2
    assert "is not a BEIR dir" in capsys.readouterr().err
