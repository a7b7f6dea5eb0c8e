"""The judge stage with a scripted judge (tests/scripted_backend.py) on a planted corpus, through
`synthir filter` (real USE embedder and FAISS index): the source of a query is a passage that
does not hold the answer while a near-copy of the answer sits in another passage, so the pair
is relabelled (promote) or gets an extra positive (add); a query whose source is irrelevant is
dropped as judge_rejected_source; relevant candidates are never mined as negatives, irrelevant
ones become verified hard negatives; the pre-judge saves calls and the card says how many; a
re-run sends no call again."""

from __future__ import annotations

import json

import pytest
from datasets import load_dataset

from synthir.byo import run_filter
from synthir.config import load_config
from tests import scripted_backend as sb

CORPUS = {
    "eiffel-src": "The Eiffel Tower is a wrought-iron lattice tower in Paris and one of the most visited monuments of France.",
    "eiffel-answer": "Construction of the Eiffel Tower lasted from 1887 to 1889; it was built for the 1889 World's Fair in Paris.",
    "eiffel-answer2": "Gustave Eiffel's company built the tower between 1887 and 1889 on the Champ de Mars in Paris.",
    "eiffel-paint": "The Eiffel Tower is repainted every seven years with about sixty tonnes of paint.",
    "banana": "Bananas are rich in potassium and vitamin B6, and they are among the most eaten fruits in the world.",
    "banana-grow": "Banana plants grow in tropical regions such as India, Ecuador and the Philippines.",
    "berlin": "Berlin is the capital and largest city of Germany, with about 3.7 million inhabitants.",
    "paris": "Paris is a city on the Seine known for its museums, cafés and fashion houses.",
    "nile": "The Nile is a major north-flowing river in northeastern Africa that flows into the Mediterranean Sea.",
    "bach": "Johann Sebastian Bach was a German composer of the Baroque period.",
    "chess": "Chess is a board game for two players on a checkered board with 64 squares.",
    "moon": "The Moon is Earth's only natural satellite, orbiting at about 384,400 kilometres.",
    "everest": "Mount Everest, on the border of Nepal and China, is Earth's highest mountain above sea level.",
    "penicillin": "Penicillin was discovered in 1928 by Alexander Fleming in London.",
}
PAIRS = [
    {"query": "when was the eiffel tower built", "passage_id": "eiffel-src"},   # answer in another passage
    {"query": "banana potassium vitamin", "passage_id": "banana"},               # confirmed
    {"query": "cafés and museums on the seine", "passage_id": "berlin"},         # source irrelevant
]
RULES = [("eiffel tower built", "1887 to 1889", 3), ("eiffel tower built", "between 1887", 2),
         ("eiffel tower built", "Eiffel", 1), ("banana", "potassium", 3), ("banana", "Banana", 1),
         ("cafés", "Seine", 3)]


@pytest.fixture(autouse=True)
def scripted():
    sb.register()
    sb.RULES[:] = RULES
    sb.SENT.clear()
    yield
    sb.RULES.clear()
    sb.unregister()


def _job(tmp_path, name: str, **sets: object):
    corpus = tmp_path / "corpus.jsonl"
    if not corpus.exists():
        corpus.write_text("".join(json.dumps({"id": k, "text": v, "lang": "en"}) + "\n" for k, v in CORPUS.items()))
        (tmp_path / "pairs.jsonl").write_text("".join(json.dumps(p) + "\n" for p in PAIRS))
        (tmp_path / "cfg.yaml").write_text("name: judge-test\nlanguages: [en]\n")
    base = {"corpus.path": corpus, "llm.backend": "scripted", "llm.model": "scripted-judge", "llm.api": "chat",
            "embedder.name": "use-multilingual", "roundtrip.top_k": 5, "filters.language_check": False,
            "mining.num_negatives": 3, "mining.relative_margin": 0.0, "judge.enabled": True,
            "judge.candidates": 3, **sets}
    cfg = load_config(tmp_path / "cfg.yaml", [f"{k}={v}" for k, v in base.items()], tmp_path / name)
    return cfg, run_filter(cfg, tmp_path / "pairs.jsonl", progress=False)


def test_promote_relabels_masks_and_verifies_negatives(tmp_path):
    _, result = _job(tmp_path, "promote", **{"llm.model": "scripted-judge-1"})
    root = str(result["dir"])
    pairs = {p["query"]: p for p in load_dataset(root, "pairs", split="train")}
    eiffel = pairs["when was the eiffel tower built"]
    assert eiffel["positive_id"] == "eiffel-answer" and eiffel["source_passage_id"] == "eiffel-src"
    assert eiffel["relabel"] == "promoted" and eiffel["judge_grade"] == 3
    assert pairs["banana potassium vitamin"]["relabel"] == "confirmed"
    seine = pairs["cafés and museums on the seine"]  # its source (berlin) graded 0, paris 3: promoted
    assert (seine["positive_id"], seine["source_passage_id"], seine["relabel"]) == ("paris", "berlin", "promoted")
    j = result["funnel"]["judge"]
    assert j["outcomes"] == {"confirmed": 1, "promoted": 2, "added": 0, "dropped": 0, "unjudged": 0}
    assert j["demoted"] == 2 and j["in"] == 3
    hard = list(load_dataset(root, "hard_negatives", split="train"))
    eiffel_negs = {h["negative_id"]: h["source"] for h in hard if h["query_id"] == eiffel["id"]}
    assert "eiffel-answer2" not in eiffel_negs and "eiffel-src" not in eiffel_negs  # relevant / source: masked
    judgments = {(r["query-id"], r["corpus-id"]): r["score"] for r in load_dataset(root, "judged_qrels", split="train")}
    assert judgments[(eiffel["id"], "eiffel-answer")] == 3 and judgments[(eiffel["id"], "eiffel-src")] == 1
    irrelevant = [d for (q, d), g in judgments.items() if q == eiffel["id"] and g < 2 and d != "eiffel-src"]
    assert irrelevant and all(eiffel_negs.get(d) == "judged" for d in irrelevant)  # verified hard negatives
    assert all(s == "mined" for d, s in eiffel_negs.items() if d not in irrelevant)
    card = (tmp_path / "promote" / "README.md").read_text()
    assert "Judge and relabel" in card and "promoted (a passage graded above the source" in card
    assert "llm-judge:scripted-judge-1:judge/graded.j2@" in card and j["template_sha256"] in card
    assert "Agreement with the round-trip ranking" in card
    sent = len(sb.SENT)
    assert sent == j["asked"] > 0
    _job(tmp_path, "promote", **{"llm.model": "scripted-judge-1"})  # again: finished stages skipped, nothing sent
    assert len(sb.SENT) == sent


def test_add_keeps_the_source_and_adds_the_better_passage(tmp_path):
    sb.RULES[:] = [("eiffel tower built", "1887 to 1889", 3), ("eiffel tower built", "Eiffel", 2)] + RULES[3:]
    # another model id: the response cache holds the first rules' verdicts for scripted-judge
    _, result = _job(tmp_path, "add", **{"judge.relabel": "add", "llm.model": "scripted-judge-2"})
    root = str(result["dir"])
    pairs = {p["query"]: p for p in load_dataset(root, "pairs", split="train")}
    eiffel = pairs["when was the eiffel tower built"]
    assert eiffel["positive_id"] == "eiffel-src" and eiffel["relabel"] == "added"
    assert eiffel["extra_positive_ids"] == ["eiffel-answer"]
    qrels = {(r["query-id"], r["corpus-id"]) for r in load_dataset(root, "qrels", split="train")}
    assert {(eiffel["id"], "eiffel-src"), (eiffel["id"], "eiffel-answer")} <= qrels
    negs = {h["negative_id"] for h in load_dataset(root, "hard_negatives", split="train") if h["query_id"] == eiffel["id"]}
    assert not negs & {"eiffel-answer", "eiffel-answer2", "eiffel-paint", "eiffel-src"}  # all graded 2 or 3
    # add never replaces the source: a query whose source is irrelevant is dropped
    assert "cafés and museums on the seine" not in pairs
    rejected = [r for r in load_dataset(root, "rejected", split="train") if r["stage"] == "judge"]
    assert [(r["reason"], r["passage_id"]) for r in rejected] == [("judge_rejected_source", "berlin")]
    assert result["funnel"]["dropped"]["judge"] == {"judge_rejected_source": 1}


def test_prejudge_sends_only_ambiguous_candidates_and_counts_the_saved_calls(tmp_path):
    _, full = _job(tmp_path, "all", **{"llm.model": "scripted-judge-3"})
    asked_all = full["funnel"]["judge"]["asked"]
    sb.SENT.clear()
    _, result = _job(tmp_path, "pre", **{"judge.prejudge.enabled": True, "judge.prejudge.margin": 0.05,
                                         "llm.model": "scripted-judge-3"})
    j = result["funnel"]["judge"]
    assert j["prejudge_saved"] > 0 and j["asked"] + j["prejudge_saved"] == asked_all
    card = (tmp_path / "pre" / "README.md").read_text()
    assert f"saved {j['prejudge_saved']} calls" in card
    skipped = [r for r in load_dataset(str(result["dir"]), "judged_qrels", split="train")]
    assert len(skipped) == j["asked"]  # only LLM-graded passages become judged qrels


def test_prejudge_with_the_teacher_scorer(tmp_path):
    _, result = _job(tmp_path, "teacher-pre", **{"judge.prejudge.enabled": True, "judge.prejudge.scorer": "teacher",
                                                 "judge.prejudge.margin": 0.0, "teacher.embedder.name": "use-multilingual",
                                                 "llm.model": "scripted-judge-4"})
    j = result["funnel"]["judge"]
    assert j["prejudge"] == "teacher" and j["asked"] + j["prejudge_saved"] == 12  # 3 queries x (source + 3)
    rows = [json.loads(line) for s in sorted((tmp_path / "teacher-pre" / ".synthir" / "shards").iterdir())
            for line in (s / "judgments.jsonl").read_text().splitlines()]
    assert all(r["prejudge_score"] is not None for r in rows)
    for r in rows:  # skipped exactly when the teacher put the candidate below the source
        src = next(x for x in rows if x["query_id"] == r["query_id"] and x["role"] == "source")
        assert r["skipped"] == (r["role"] == "candidate" and r["prejudge_score"] < src["prejudge_score"])


def test_synthir_filter_refuses_a_target(tmp_path):
    from synthir.errors import ConfigError

    with pytest.raises(ConfigError, match="target.kept_pairs is for synthir run"):
        _job(tmp_path, "t", **{"target.kept_pairs": 5})
