"""benchmarks/downstream.py keeps each eval's per-query scores in benchmarks/results without
the local BEIR path, readable by `synthir eval-compare`'s loader."""

from __future__ import annotations

import json

from synthir.eval.versus import arm_scores, load_per_query, per_query_record

from tests.benchmark_scripts import load_benchmark

downstream = load_benchmark("downstream")


def test_kept_scores_have_no_local_path_and_load_as_an_eval_dir(tmp_path):
    qids = ["q1", "q2"]
    rec = per_query_record("/work/devsets/help-de", "test", qids, [0],
                           {"base": [{"ndcg@10": {"q1": 0.0, "q2": 0.5}}],
                            "synthetic": [{"ndcg@10": {"q1": 1.0, "q2": 0.25}}]})
    (tmp_path / "eval").mkdir()
    (tmp_path / "eval" / "per_query.json").write_text(json.dumps(rec))
    dest = tmp_path / "results" / "per_query" / "downstream-x" / "help-de-minilm-mnrl"
    downstream.keep_per_query(tmp_path / "eval", dest)
    text = (dest / "per_query.json").read_text()
    assert "/work" not in text
    kept = load_per_query(dest)
    assert kept["beir"] == "help-de" and kept["test_qids"] == qids
    assert list(arm_scores(kept, "synthetic", "ndcg@10", dest, qids)) == [1.0, 0.25]
