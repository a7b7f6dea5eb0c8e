"""The bootstrap pilot's choice of in-domain examples: best round-trip rank first, one per
passage, at most 8 per language; and the pools the generate stage reads back."""

from data_schemas.records import BootstrapExample, Passage, Provenance, QueryRecord
from synthir.rundir import RunDir, read_records, write_records
from synthir.stages.bootstrap import MAX_EXAMPLES, choose, in_language
from synthir.stages.probe import by_method

PROV = Provenance(generator="promptagator", template="t", template_sha256="x", examples_sha256="y",
                  model="m", backend="b", sampling={}, seed=0)


def _rec(i: int, pid: str, lang: str, rank: int, score: float) -> QueryRecord:
    return QueryRecord(id=f"q{i}", query=f"query number {i}", passage_id=pid, query_lang=lang, passage_lang="en",
                       cross_lingual=lang != "en", provenance=PROV, method="promptagator",
                       roundtrip_rank=rank, roundtrip_score=score, attributes={"query_type": "keyword"})


def test_choose_takes_the_best_query_of_each_passage_best_first():
    passages = {f"p{i}": Passage(id=f"p{i}", lang="en", text=f"text {i}") for i in range(12)}
    kept = [_rec(1, "p0", "en", 2, 0.9), _rec(2, "p0", "en", 1, 0.3), _rec(3, "p1", "en", 1, 0.8),
            _rec(4, "p1", "fr", 4, 0.2)]
    kept += [_rec(10 + i, f"p{i}", "en", 3, 0.1) for i in range(2, 12)]
    chosen = choose(kept, passages, method=0)
    en = [c for c in chosen if c.lang == "en"]
    assert [c.query for c in en[:2]] == ["query number 3", "query number 2"]  # rank 1 score .8, then .3
    assert len(en) == MAX_EXAMPLES and len({c.passage_id for c in en}) == MAX_EXAMPLES
    fr = [c for c in chosen if c.lang == "fr"]
    assert len(fr) == 1 and fr[0].passage == "text 1" and fr[0].type == "keyword"


def test_pools_read_back_per_method_and_language(tmp_path):
    run = RunDir(tmp_path)
    passages = {"p0": Passage(id="p0", lang="en", text="text 0")}
    write_records(run.bootstrap_examples, choose([_rec(1, "p0", "en", 1, 0.5)], passages, method=2))
    got = by_method(read_records(run.bootstrap_examples, BootstrapExample))
    assert list(got) == [2] and got[2]["en"][0]["query"] == "query number 1"
    assert got[2]["en"][0]["passage"] == "text 0" and got[2]["en"][0]["id"]


def test_choose_skips_examples_not_clearly_in_their_language():
    """The real lingua checker: the filters pass an English keyword list as French (French
    confidence >= 0.2); as a French example it would teach English answers."""
    from synthir.langid import LanguageID

    passages = {f"p{i}": Passage(id=f"p{i}", lang="en", text=f"text {i}") for i in range(3)}
    en_as_fr = _rec(1, "p0", "fr", 1, 0.9).model_copy(update={"query": "science, marine science, ocean science"})
    fr = _rec(2, "p1", "fr", 1, 0.5).model_copy(update={"query": "quel est le système reproductif des oiseaux"})
    en = _rec(3, "p2", "en", 1, 0.5).model_copy(update={"query": "how long is a statute mile"})
    langid = LanguageID(["en", "fr"])
    assert langid.check(en_as_fr.query, "fr").ok  # what the filters let through
    assert [c.query for c in choose([en_as_fr, fr, en], passages, 0)][:1] == [en_as_fr.query]
    fit, skipped = in_language([en_as_fr, fr, en], langid)
    assert skipped == {"fr": 1}  # counted in the stage's marker, not dropped silently
    assert sorted(c.query for c in choose(fit, passages, 0)) == sorted([fr.query, en.query])
    assert in_language([en_as_fr], None) == ([en_as_fr], {})  # language checks off: all fit
