"""Teacher scores in a planted run are published consistently: pairs and hard_negatives carry
them, FlagEmbedding uses them, `distill` labels are their differences; without scores no
distill rows are published."""

import json

import pytest
from datasets import load_dataset

from synthir.publish.hf import publish
from synthir.rundir import write_records
from tests.planted import make_planted_run


def test_teacher_scores_flow_into_every_config(tmp_path):
    cfg, run, ids, positives = make_planted_run(tmp_path / "out", dev_fraction=0.0)
    shard = run.shard(0)
    negs = [json.loads(line) for line in shard.negatives.read_text().splitlines()]
    scores = [{"query_id": f"q{k}", "doc_id": pid, "role": "positive", "score": 0.9 - k / 100, "teacher": "t"}
              for k, pid in enumerate(positives)]
    scores += [{"query_id": n["query_id"], "doc_id": n["negative_id"], "role": "mined", "score": 0.1 * (k + 1),
                "teacher": "t"} for k, n in enumerate(negs)]
    scores.append({"query_id": "q2", "doc_id": "llmneg", "role": "llm", "score": 0.25, "teacher": "t"})
    write_records(shard.teacher_scores, scores)
    publish(cfg, run)
    pairs = {r["id"]: r for r in load_dataset(str(run.root), "pairs")["train"]}
    assert pairs["q0"]["teacher_score"] == pytest.approx(0.9)
    hard = load_dataset(str(run.root), "hard_negatives")["train"]
    assert sorted(round(h["teacher_score"], 4) for h in hard) == [0.1, 0.2, 0.3, 0.4, 0.5]
    distill = load_dataset(str(run.root), "distill")["train"]
    assert len(distill) == len(hard) + 1  # every mined negative + the verified LLM negative
    query_of = {p["query"]: p for p in pairs.values()}
    neg_score = {(h["query"], h["negative"]): h["teacher_score"] for h in hard}
    neg_score[("query 2", "looks relevant, is not")] = 0.25
    for row in distill:
        expected = query_of[row["query"]]["teacher_score"] - neg_score[(row["query"], row["negative"])]
        assert row["label"] == pytest.approx(expected, abs=1e-6)
    flag = {r["query"]: r for r in load_dataset(str(run.root), "flagembedding")["train"]}
    assert flag["query 2"]["pos_scores"] == [pytest.approx(pairs["q2"]["teacher_score"])]
    assert sorted(round(s, 4) for s in flag["query 2"]["neg_scores"]) == [0.25, 0.4, 0.5]


def test_no_teacher_no_distill(tmp_path):
    cfg, run, _, _ = make_planted_run(tmp_path / "out")
    result = publish(cfg, run)
    assert result["rows"]["distill"] == 0 and "distill" not in result["files"]
    pairs = load_dataset(str(run.root), "pairs")
    assert all(s is None for split in pairs.values() for s in split["teacher_score"])
