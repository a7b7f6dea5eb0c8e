"""Lexical filters (rapidfuzz) and the query filter chain, on planted inputs."""

import pytest

from data_schemas.config import FilterConfig
from data_schemas.records import Passage, Provenance, QueryRecord
from synthir.filters.fuzzy import copy_check, near_duplicates
from synthir.filters.queries import filter_queries
from synthir.langid import LanguageID

PROV = Provenance(generator="t", template="t", template_sha256="0", examples_sha256="0", model="m",
                  backend="b", sampling={}, seed=0)
PASSAGES = {
    "nile": Passage(id="nile", lang="en", text="The Nile is a major north-flowing river in northeastern "
                    "Africa. It flows into the Mediterranean Sea and is about 6,650 km long."),
    "louvre": Passage(id="louvre", lang="fr", text="Le musée du Louvre est le musée d'art le plus visité au monde."),
}


def q(i, text, pid="nile", lang="en"):
    return QueryRecord(id=f"q{i}", query=text, passage_id=pid, query_lang=lang,
                       passage_lang=PASSAGES.get(pid, PASSAGES["nile"]).lang, cross_lingual=False,
                       provenance=PROV)


def test_copy_check_partial_ratio_and_overlap():
    p = PASSAGES["nile"].text
    assert copy_check("a major north-flowing river in northeastern Africa", p, 95, 5, None)[0] == "copied_from_passage"
    assert copy_check("river in Africa", p, 95, 5, None) is None  # short keyword queries may reuse words
    assert copy_check("how long is the nile river", p, 95, 5, None) is None
    hit = copy_check("mediterranean sea africa nile", p, 95, 5, 0.9)
    assert hit and hit[1].startswith("token overlap 1.00")


def test_near_duplicates_keep_first_and_ignore_case_order_punctuation():
    texts = ["how long is the Nile", "capital of France", "How long is the nile?", "the nile how long is",
             "completely different"]
    found = near_duplicates(texts, 95, chunk=2)  # chunk < n: blocks must still see earlier rows
    assert found[0] is None and found[1] is None and found[4] is None
    assert found[2][0] == 0 and found[3][0] == 0
    assert near_duplicates([], 90) == [] and near_duplicates(["x"], 90) == [None]


def test_near_duplicates_with_other_numbers_are_other_queries():
    """"Folleto de 16 páginas" and "Folleto de 12 páginas" score 97: the round trip kept both,
    for different pages, and the run-wide filter dropped the second (§8aq)."""
    texts = ["Imprimir folleto de 12 páginas", "Imprimir folleto de 16 páginas", "imprimir folleto de 16 paginas!",
             "Imprimir folleto de 12 paginas", "Folleto de 9, 10 u 11 páginas", "folleto de 9, 10 u 11 páginas."]
    found = near_duplicates(texts, 95, chunk=2)
    assert found[0] is None and found[1] is None  # 97, but 16 is not 12
    assert found[2][0] == 1 and found[3][0] == 0  # the first earlier text with the same numbers
    assert found[4] is None and found[5][0] == 4


def test_filter_chain_reasons_and_language_agreement():
    recs = [q(1, "how long is the nile"),
            q(2, "How long is the Nile?", pid="louvre"),                       # duplicate across the run
            q(3, "length of the nile river"),
            q(4, "nile river length"),                                          # kept
            q(5, "flows into the Mediterranean Sea and is about"),           # copy (>=5 words)
            q(6, "x"),                                                         # too short
            q(7, "quel est le musée le plus visité", pid="louvre", lang="fr"),
            q(8, "what is the most visited art museum in the world", pid="louvre", lang="fr"),  # wrong language
            q(9, "length of the nile rivers"),                                 # same passage, near-dup of q3
            q(10, "river", pid="amazon")]
    kept, rejected, stats = filter_queries(recs, PASSAGES, FilterConfig(min_chars=3), LanguageID(["en", "fr"]))
    reasons = {r.item_id: r.reason for r in rejected}
    assert reasons == {"q2": "near_duplicate", "q5": "copied_from_passage", "q6": "too_short",
                       "q8": "wrong_language", "q9": "near_duplicate", "q10": "unknown_passage"}
    assert [r.id for r in kept] == ["q1", "q3", "q4", "q7"]
    assert stats["language"]["fr"] == {"checked": 2, "agree": 1}
    assert all(r.stage == "filter" for r in rejected)
    dup = next(r for r in rejected if r.item_id == "q9")
    assert "same passage as q3" in dup.detail


@pytest.mark.parametrize("threshold,expect", [(100, None), (80, 0)])
def test_threshold_is_configurable(threshold, expect):
    found = near_duplicates(["nile river length", "length of nile river"], threshold)
    assert (found[1] and found[1][0]) == expect or (found[1] is None and expect is None)


def test_cross_passage_duplicates_go_to_a_passage_the_round_trip_will_pass():
    # one question written for three passages: with `rank`, the first copy whose own passage is
    # in the top_k (else the best-ranked) is kept, whatever its position; without, the first
    passages = {**PASSAGES, "seine": Passage(id="seine", lang="en", text="The Seine flows through Paris.")}
    recs = [q(1, "how long is the nile", pid="louvre"), q(2, "How long is the Nile?"),
            q(3, "how long is the nile!", pid="seine"), q(6, "How long is the Nile??", pid="louvre"),
            q(4, "nile river in africa"), q(5, "Nile river in Africa")]  # same passage: not searched
    ranks = {"q1": (7, 0.2), "q2": (1, 0.9), "q3": (7, 0.2)}
    calls = []

    def rank(records):
        calls.append([r.id for r in records])
        return [ranks[r.id] for r in records]

    kept, rejected, stats = filter_queries(recs, passages, FilterConfig(), None, rank, top_k=5)
    assert [r.id for r in kept] == ["q2", "q4"] and stats["duplicates_resolved"] == 1
    assert calls == [["q1", "q2", "q3"]]  # only the members of a group that spans passages
    detail = {r.item_id: r.detail for r in rejected}
    assert detail["q1"].startswith("duplicate of q2 ('How long is the Nile?')")
    assert "kept for passage nile (source rank 1), this one's passage ranks 7" in detail["q3"]
    assert "same passage as q1" in detail["q6"] and "same passage as q4" in detail["q5"]
    kept_first, _, stats_first = filter_queries(recs, passages, FilterConfig(), None)
    assert [r.id for r in kept_first] == ["q1", "q4"] and stats_first["duplicates_resolved"] == 0
    # a first copy that will pass the round trip is never replaced by a better-ranked one...
    ranks.update(q1=(4, 0.3))
    assert [r.id for r in filter_queries(recs, passages, FilterConfig(), None, rank, top_k=5)[0]] == ["q1", "q4"]
    # ...unless no top_k is given: then the best-ranked
    assert [r.id for r in filter_queries(recs, passages, FilterConfig(), None, rank)[0]] == ["q2", "q4"]
    # none in the top_k: the best-ranked, ties to the first; a source not found loses to any rank
    ranks.update(q1=(None, 0.0), q2=(7, 0.5), q3=(7, 0.5))
    kept, rejected, _ = filter_queries(recs, passages, FilterConfig(), None, rank, top_k=5)
    assert [r.id for r in kept] == ["q2", "q4"]
    assert "this one's passage ranks not found" in {r.item_id: r.detail for r in rejected}["q1"]
    assert filter_queries(recs[4:], passages, FilterConfig(), None, rank, top_k=5)[2]["duplicates_resolved"] == 0
    assert len(calls) == 4  # no cross-passage group, no search
