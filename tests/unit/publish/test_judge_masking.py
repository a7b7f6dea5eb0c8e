"""Judged-relevant candidates never appear as a negative of their query in ANY published config
(triplets, ntuples, distill, tevatron, flagembedding, hard_negatives, documents, beir), even
when the negatives file still holds them; judged-irrelevant ones are published with
`source = judged`; the grades publish as `judged_qrels` and in `graded`; a promoted positive
and an extra positive reach every config and the BEIR qrels. A planted run: no model."""

import json

from datasets import load_dataset

from data_schemas.config import JudgeConfig
from data_schemas.records import Judgment
from synthir.publish.hf import CONFIGS, publish
from synthir.rundir import write_records
from tests.planted import make_planted_run


def _judgment(q: str, doc: str, role: str, rank: int, grade: int | None) -> Judgment:
    return Judgment(id=f"j-{q}-{doc}", query_id=q, query=f"query {q[1]}", lang="en", doc_id=doc, role=role,
                    rank=rank, retrieval_score=1 - rank / 10, grade=grade, judge="scripted")


def _plant(tmp_path, relabel="promote"):
    cfg, run, ids, positives = make_planted_run(tmp_path / "out", dev_fraction=0.0)
    cfg = cfg.model_copy(update={"judge": JudgeConfig(enabled=True, relabel=relabel), "mining": cfg.mining})
    shard = run.shard(0)
    kept = [json.loads(line) for line in shard.kept.read_text().splitlines()]
    negs = [json.loads(line) for line in shard.negatives.read_text().splitlines()]
    # mining (as if it had not seen the judge) also picked ids[4], ids[5] for q0; ids[3] is judged
    negs += [{**negs[0], "id": f"extra{k}", "negative_id": ids[k], "rank": k, "score": 0.5} for k in (4, 5)]
    negs[1] = {**negs[1], "source": "judged"}
    write_records(shard.negatives, negs)
    # q0: ids[2] graded relevant (was mined), ids[3] irrelevant; q2: ids[4] and ids[5] relevant
    # (ids[5] was mined for q2, and the LLM negative of q2 will near-copy it); q1: promoted to ids[3]
    judgments = [_judgment("q0", positives[0], "source", 1, 3), _judgment("q0", ids[2], "candidate", 2, 2),
                 _judgment("q0", ids[3], "candidate", 3, 0),
                 _judgment("q1", positives[1], "source", 2, 1), _judgment("q1", ids[3], "candidate", 1, 3),
                 _judgment("q2", positives[2], "source", 1, 3), _judgment("q2", ids[4], "candidate", 2, 3),
                 _judgment("q2", ids[5], "candidate", 3, 2)]
    write_records(shard.judgments, judgments)
    judged = [dict(k) for k in kept]
    judged[0].update(judge_grade=3, relabel="confirmed")
    judged[1].update(passage_id=ids[3], source_id=positives[1], judge_grade=3, relabel="promoted")
    judged[2].update(judge_grade=3, relabel="added" if relabel == "add" else "confirmed",
                     extra_positives=[ids[4]] if relabel == "add" else [])
    write_records(shard.judged, judged)
    docs = [json.loads(line) for line in shard.verified_documents.read_text().splitlines()]
    for d in docs:
        if d["id"] == "llmneg":
            d["text"] = f"passage {ids[5]} text!"  # a near-copy of a passage judged relevant for q2
    write_records(shard.verified_documents, docs)
    scores = [{"query_id": p["id"], "doc_id": p["passage_id"], "role": "positive", "score": 0.9, "teacher": "t"}
              for p in judged]
    scores += [{"query_id": n["query_id"], "doc_id": n["negative_id"], "role": "mined", "score": 0.2, "teacher": "t"}
               for n in negs]
    scores.append({"query_id": "q2", "doc_id": "llmneg", "role": "llm", "score": 0.3, "teacher": "t"})
    write_records(shard.teacher_scores, scores)
    masked = {"q0": {positives[0], ids[2]}, "q1": {positives[1], ids[3]}, "q2": {positives[2], ids[4], ids[5]}}
    return cfg, run, ids, positives, masked


def _texts(run, ids):
    return {f"passage {i} text": i for i in ids}


def test_judged_relevant_never_a_negative_in_any_config(tmp_path):
    cfg, run, ids, _, masked = _plant(tmp_path)
    result = publish(cfg, run)
    root = str(run.root)
    load = lambda name: list(load_dataset(root, name, split="train")) if name in result["files"] else []
    pairs = {p["id"]: p for p in load("pairs")}
    qid_of = {p["query"]: p["id"] for p in pairs.values()}
    doc_of = _texts(run, ids)
    negatives: dict[str, set[str]] = {}  # query id -> negative doc ids (LLM negatives: the passage they copy)

    def add(qid, text_or_id):
        negatives.setdefault(qid, set()).add(doc_of.get(text_or_id, doc_of.get(text_or_id.rstrip("!"), text_or_id)))

    for r in load("triplets"):
        add(qid_of[r["anchor"]], r["negative"])
    for r in load("ntuples"):
        for k in range(1, cfg.mining.num_negatives + 1):
            add(qid_of[r["anchor"]], r[f"negative_{k}"])
    for r in load("distill"):
        add(qid_of[r["query"]], r["negative"])
    for r in load("tevatron"):
        for n in r["negative_passages"]:
            add(r["query_id"], n["text"])
    for r in load("flagembedding"):
        for n in r["neg"]:
            add(qid_of[r["query"]], n)
    for r in load("hard_negatives"):
        add(r["query_id"], r["negative_id"])
    for r in load("documents"):
        if r["kind"] == "negative":
            add(r["query_id"], r["text"])
    with open(run.root / "beir" / "qrels" / "train.tsv") as fh:
        beir = [line.rstrip("\n").split("\t") for line in fh][1:]
    assert all(int(score) > 0 for _, _, score in beir)  # no BEIR row marks a relevant passage 0
    for name in ("triplets", "ntuples", "distill", "tevatron", "flagembedding", "hard_negatives"):
        assert result["rows"][name] > 0, name  # every negative-bearing config is really exercised
    for qid, negs in negatives.items():
        assert not negs & masked[qid], (qid, negs & masked[qid])
    assert negatives["q0"] == {ids[3], ids[4], ids[5]}  # ids[5] is masked for q2 only, not for q0
    assert ids[5] not in negatives.get("q2", set())  # mined for q2, then judged relevant: gone
    hard = load("hard_negatives")
    assert {(h["negative_id"], h["source"]) for h in hard if h["query_id"] == "q0"} == {
        (ids[3], "judged"), (ids[4], "mined"), (ids[5], "mined")}
    assert "llmneg" not in {d["id"] for d in load("documents")}  # the LLM negative copying a relevant passage


def test_judgments_publish_as_graded_qrels_and_relabels_reach_every_config(tmp_path):
    cfg, run, ids, positives, _ = _plant(tmp_path, relabel="add")
    result = publish(cfg, run)
    root = str(run.root)
    assert "judged_qrels" in CONFIGS
    jq = {(r["query-id"], r["corpus-id"]): r["score"] for r in load_dataset(root, "judged_qrels", split="train")}
    assert jq[("q0", ids[2])] == 2 and jq[("q1", ids[3])] == 3 and jq[("q1", positives[1])] == 1
    graded = [r for r in load_dataset(root, "graded", split="train") if r["query_id"] == "q1"]
    assert {(r["doc_id"], r["score"], r["source"]) for r in graded} == {(ids[3], 3, "judged"),
                                                                       (positives[1], 1, "judged")}
    pairs = {p["id"]: p for p in load_dataset(root, "pairs", split="train")}
    assert pairs["q1"]["positive_id"] == ids[3] and pairs["q1"]["source_passage_id"] == positives[1]
    assert pairs["q1"]["positive"] == f"passage {ids[3]} text" and pairs["q1"]["relabel"] == "promoted"
    assert pairs["q2"]["extra_positive_ids"] == [ids[4]] and pairs["q2"]["relabel"] == "added"
    tev = {r["query_id"]: r for r in load_dataset(root, "tevatron", split="train")}
    assert [p["docid"] for p in tev["q2"]["positive_passages"]] == [positives[2], ids[4]]
    flag = {r["query"]: r for r in load_dataset(root, "flagembedding", split="train")}
    assert len(flag["query 2"]["pos"]) == len(flag["query 2"]["pos_scores"]) == 2
    qrels = {(r["query-id"], r["corpus-id"]) for r in load_dataset(root, "qrels", split="train")}
    assert ("q2", ids[4]) in qrels and ("q1", ids[3]) in qrels and ("q1", positives[1]) not in qrels
    card = (run.root / "README.md").read_text()
    assert "judged_qrels" in card and result["rows"]["judged_qrels"] == len(jq)
