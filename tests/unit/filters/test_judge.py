"""The judge's pure decisions (synthir.filters.judge): candidates, the pre-judge's margin, relabel
promote / add / off, judge_rejected_source, masking, verified negatives, agreement."""

import pytest

from data_schemas.config import JudgeConfig
from data_schemas.records import Judgment, Provenance, QueryRecord, Rejected
from synthir.filters.judge import agreement, ambiguous, decide, judged_sets, relabel, slots

PROV = Provenance(generator="g", template="t", template_sha256="0", examples_sha256="0", model="m",
                  backend="b", sampling={}, seed=0)
REC = QueryRecord(id="q", query="when was it built", passage_id="src", query_lang="en", passage_lang="en",
                  cross_lingual=False, provenance=PROV, roundtrip_rank=3, roundtrip_score=0.7)


def J(doc, grade, rank, role="candidate", skipped=False, error=None):
    return Judgment(id=f"j{doc}", query_id="q", query=REC.query, lang="en", doc_id=doc, role=role, rank=rank,
                    retrieval_score=1 - rank / 10, grade=grade, skipped=skipped, error=error, judge="scripted")


def test_slots_take_the_source_then_the_best_ranked_others():
    s = slots(REC, ["a", "b", "src", "c", "d"], [0.9, 0.8, 0.7, 0.6, 0.5], 3)
    assert [(x.doc_id, x.role, x.rank) for x in s] == [("src", "source", 3), ("a", "candidate", 1),
                                                        ("b", "candidate", 2), ("c", "candidate", 4)]
    assert [x.doc_id for x in slots(REC, ["a", "src"], [0.9, 0.7], 0)] == ["src"]


def test_prejudge_margin():
    assert ambiguous(0.7, 0.65, 0.1) and ambiguous(0.7, 0.95, 0.1)  # close to the source, or above it
    assert not ambiguous(0.7, 0.5, 0.1)                               # clearly below: no LLM call
    assert ambiguous(None, 0.1, 0.1) and ambiguous(0.7, None, 0.1)


def test_promote_a_better_candidate_keeps_the_source_as_provenance():
    cfg = JudgeConfig(enabled=True)
    js = [J("src", 1, 3, "source"), J("a", 3, 1), J("b", 2, 2), J("c", 0, 4)]
    out, d = relabel(REC, js, cfg, {"a": "fr"})
    assert d.outcome == "promoted" and d.demoted and d.better == ["a", "b"]
    assert (out.passage_id, out.source_id, out.judge_grade, out.relabel) == ("a", "src", 3, "promoted")
    assert (out.passage_lang, out.cross_lingual, out.roundtrip_rank) == ("fr", True, 1)
    assert d.masked == {"src", "a", "b"} and [j.doc_id for j in d.irrelevant] == ["c"]


def test_ties_go_to_the_better_ranked_candidate():
    js = [J("src", 2, 3, "source"), J("b", 3, 4), J("a", 3, 2)]
    out, _ = relabel(REC, js, JudgeConfig(enabled=True), {})
    assert out.passage_id == "a"


def test_add_keeps_the_source_and_lists_every_better_candidate():
    js = [J("src", 2, 3, "source"), J("a", 3, 1), J("b", 2, 2)]
    out, d = relabel(REC, js, JudgeConfig(enabled=True, relabel="add"), {})
    assert (out.passage_id, out.extra_positives, out.relabel, d.outcome) == ("src", ["a"], "added", "added")
    assert d.masked == {"src", "a", "b"}


@pytest.mark.parametrize("mode", ["add", "off"])
def test_an_irrelevant_source_is_dropped_unless_promote_finds_better(mode):
    js = [J("src", 1, 3, "source"), J("a", 3, 1)]
    out, d = relabel(REC, js, JudgeConfig(enabled=True, relabel=mode), {})
    assert isinstance(out, Rejected) and out.reason == "judge_rejected_source" and out.stage == "judge"
    assert d.outcome == "dropped" and d.demoted
    out, d = relabel(REC, js, JudgeConfig(enabled=True), {})
    assert d.outcome == "promoted" and out.passage_id == "a"
    out, d = relabel(REC, [J("src", 0, 3, "source"), J("a", 1, 1)], JudgeConfig(enabled=True), {})
    assert d.outcome == "dropped" and isinstance(out, Rejected)


def test_confirmed_unjudged_and_relevant_min():
    out, d = relabel(REC, [J("src", 3, 3, "source"), J("a", 3, 1)], JudgeConfig(enabled=True), {})
    assert d.outcome == "confirmed" and out.judge_grade == 3 and d.masked == {"src", "a"}  # equal: not better
    out, d = relabel(REC, [J("src", None, 3, "source", error="llm_error: x"), J("a", 3, 1)],
                     JudgeConfig(enabled=True), {})
    assert d.outcome == "unjudged" and out.relabel == "unjudged" and out.passage_id == "src"
    cfg = JudgeConfig(enabled=True, relevant_min=3)
    out, d = relabel(REC, [J("src", 2, 3, "source")], cfg, {})
    assert d.outcome == "dropped"


def test_masking_keeps_failed_verdicts_out_of_negatives_but_not_prejudge_skips():
    js = [J("src", 3, 3, "source"), J("a", None, 1, error="malformed_verdict: x"), J("b", None, 2, skipped=True),
          J("c", 1, 4)]
    d = decide(js, JudgeConfig(enabled=True))
    assert d.masked == {"src", "a"} and [j.doc_id for j in d.irrelevant] == ["c"]
    sets = judged_sets(JudgeConfig(enabled=True), js)
    assert sets["q"].masked == {"src", "a"} and sets["q"].irrelevant == (("c", 4, 0.6),)


def test_agreement_with_the_round_trip_rank():
    # ranks a1 src3 b2; grades a 3, b 2, src 1: all three pairs ordered alike -> 3 concordant
    assert agreement([J("src", 1, 3, "source"), J("a", 3, 1), J("b", 2, 2)]) == (3, 0, True)
    # the source (rank 3) graded best, the others worse: two discordant pairs, a/b tie ignored
    assert agreement([J("src", 3, 3, "source"), J("a", 1, 1), J("b", 1, 2)]) == (0, 2, False)
    assert agreement([J("src", 3, 3, "source")]) == (0, 0, None)
