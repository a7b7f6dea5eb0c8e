"""Document generators (graded, negative, hyde): prompts and parser with scripted outputs."""

import pytest

from data_schemas.config import DocumentMethodConfig, GenerationConfig, LLMConfig
from data_schemas.records import DocumentRecord, Passage, Provenance, QueryRecord, Rejected
from synthir.generators.documents import DocumentGenerator
from synthir.llm.base import Generation

PASSAGE = Passage(id="en:Nile", lang="en", title="Nile",
                  text="The Nile is a major north-flowing river in northeastern Africa. It flows into "
                       "the Mediterranean Sea and is about 6,650 km long.")
PROV = Provenance(generator="promptagator", template="query/promptagator.j2", template_sha256="t" * 64,
                  examples_sha256="e" * 64, model="scripted-model", backend="scripted",
                  sampling={"temperature": 0.0}, seed=7)
QUERY = QueryRecord(id="q-nile-1", query="How long is the Nile river from its source to the sea?",
                    passage_id=PASSAGE.id, query_lang="en", passage_lang="en", cross_lingual=False,
                    provenance=PROV)
GOOD = " The Nile river flows for roughly 6,650 kilometres from its headwaters to its delta in Egypt."


def make(**kw):
    return DocumentGenerator(DocumentMethodConfig(**kw), GenerationConfig(), LLMConfig(),
                             ["en", "fr"], seed=7)


@pytest.fixture(scope="module")
def graded():
    return make(method="graded")


def prompts(gen, queries=(QUERY,)):
    return gen.build_prompts(list(queries), {PASSAGE.id: PASSAGE})


def parse(gen, text, finish="stop", item=None, **kw):
    item = item or prompts(gen)[0]
    return gen.parse(item, Generation(text=text, finish_reason=finish), "scripted", "scripted-model", **kw)


# --- prompts -------------------------------------------------------------------------------

def test_names_and_templates():
    cases = [(dict(method="graded"), "graded", "documents/graded.j2"),
             (dict(method="negative", variant="query"), "negative_query",
              "documents/negative_from_query.j2"),
             (dict(method="negative", variant="positive"), "negative_positive",
              "documents/negative_from_positive.j2"),
             (dict(method="negative"), "negative_positive", "documents/negative_from_positive.j2"),
             (dict(method="hyde"), "hyde", "documents/hyde.j2")]
    for kw, name, template in cases:
        g = make(**kw)
        assert g.name == name and g.template.name == template
        assert all(i.method == name for i in prompts(g))


def test_graded_one_prompt_per_level(graded):
    items = prompts(graded)
    assert [i.level for i in items] == [3, 2, 1, 0]
    assert len({i.prompt_id for i in items}) == 4
    ex = graded.examples["en"][0]
    for i in items:
        assert i.text.rstrip().endswith(f"Relevance {i.level} document:")
        assert f"Relevance {i.level} document: {ex['graded'][str(i.level)]}" in i.text
        assert i.query is QUERY and i.passage == PASSAGE and i.lang == "en"
        for other in {3, 2, 1, 0} - {i.level}:
            assert f"Relevance {other} document:" not in i.text
            assert ex["graded"][str(other)] not in i.text
    assert "Relevance 0: the paragraph is about an unrelated topic." in items[3].text
    assert PASSAGE.text.split()[0] + " " + PASSAGE.text.split()[1] not in items[0].text  # small models copy it
    assert f"Query: {QUERY.query}\nRelevance 3 document:" in items[0].text


def test_graded_level_subset():
    g = make(method="graded", levels=[3, 0])
    items = prompts(g)
    assert [i.level for i in items] == [3, 0]
    assert "Relevance 3 document:" in items[0].text and "Relevance 0 document:" in items[1].text
    assert all("Relevance 2 document:" not in i.text for i in items)


def test_prompts_follow_query_order_and_language():
    g = make(method="graded", levels=[1])
    fr = QUERY.model_copy(update={"id": "q-fr", "query": "longueur du Nil", "query_lang": "fr",
                                  "cross_lingual": True})
    items = prompts(g, [QUERY, fr])
    assert [(i.query.id, i.lang) for i in items] == [("q-nile-1", "en"), ("q-fr", "fr")]
    assert g.examples["fr"][0]["query"] in items[1].text
    assert "Write an encyclopedia paragraph in French" in items[1].text


def test_negative_from_query_does_not_see_the_positive():
    g = make(method="negative", variant="query")
    [item] = prompts(g)
    assert item.level is None
    flat = " ".join(PASSAGE.text.split())
    assert flat not in item.text and "6,650 km" not in item.text
    assert f"Query: {QUERY.query}\nNon-answering document:" in item.text
    assert g.examples["en"][0]["hard_negative"] in item.text


def test_negative_from_positive_sees_the_positive():
    g = make(method="negative", variant="positive")
    [item] = prompts(g)
    assert f"Answering passage: {' '.join(PASSAGE.text.split())}\nNon-answering document:" in item.text
    assert item.text.rstrip().endswith("Non-answering document:")


def test_hyde_prompt():
    g = make(method="hyde")
    [item] = prompts(g)
    assert item.text.rstrip().endswith(f"Query: {QUERY.query}\nDocument:")
    assert " ".join(PASSAGE.text.split()) not in item.text
    assert g.examples["en"][0]["graded"]["3"] in item.text


def test_num_examples_limits_the_examples():
    g = make(method="hyde", num_examples=1)
    [item] = prompts(g)
    assert item.text.count("Query:") == 2
    assert g.examples["en"][0]["query"] in item.text


# --- parse ---------------------------------------------------------------------------------

@pytest.mark.parametrize("kw,kind,variant", [
    (dict(method="graded"), "graded", None),
    (dict(method="negative", variant="query"), "negative", "query"),
    (dict(method="negative", variant="positive"), "negative", "positive"),
    (dict(method="hyde"), "hyde", None),
])
def test_good_document(kw, kind, variant):
    g = make(**kw)
    item = prompts(g)[-1]
    rec = parse(g, GOOD + "\nQuery: next example", item=item)
    assert isinstance(rec, DocumentRecord)
    assert rec.text == GOOD.strip()
    assert rec.kind == kind and rec.variant == variant
    assert rec.level == (0 if kind == "graded" else None)
    assert rec.query_id == "q-nile-1" and rec.query == QUERY.query
    assert rec.passage_id == "en:Nile" and rec.lang == "en"
    assert rec.provenance.generator == g.name
    assert rec.provenance.template == g.template.name
    assert rec.provenance.sampling["stop"] == ["\n"]
    assert rec.provenance.sampling["max_tokens"] == 160


def test_graded_records_keep_their_level(graded):
    recs = [parse(graded, GOOD, item=i) for i in prompts(graded)]
    assert [r.level for r in recs] == [3, 2, 1, 0]
    assert len({r.id for r in recs}) == 4


def test_length_finish_after_a_newline_is_kept(graded):
    rec = parse(graded, GOOD + "\nQuery: some", finish="length")
    assert isinstance(rec, DocumentRecord) and rec.text == GOOD.strip()


@pytest.mark.parametrize("text,finish,reason", [
    (" The Nile river flows for roughly 6,650 kilometres from its", "length", "truncated"),
    ("", "stop", "empty"),
    ("  \n\n", "stop", "empty"),
    (' ""', "stop", "empty"),
    (" The Nile is long.", "stop", "too_short"),
    (" Query: How long is the Nile? The Nile river flows for roughly 6,650 kilometres.", "stop",
     "template_leak"),
    (" How long is the Nile river from its source to the sea", "stop", "echoes_query"),
    (" The Nile is a major north-flowing river in north-eastern Africa. It flows into the "
     "Mediterranean Sea and is about 6,650 km long.", "stop", "copies_positive"),
    (" " + "The Nile river is very long. " * 80, "stop", "too_long"),
    ("", "error", "llm_error"),
])
def test_broken_documents_are_rejected(graded, text, finish, reason):
    item = prompts(graded)[0]
    res = parse(graded, text, finish, item=item)
    assert isinstance(res, Rejected)
    assert res.reason == reason
    assert res.stage == "documents"
    assert res.method == "graded" and res.item_id == item.prompt_id
    assert res.passage_id == "en:Nile" and res.lang == "en" and res.raw == text[:500]


def test_truncated_detail_and_llm_error_detail(graded):
    res = parse(graded, " A cut-off paragraph about the Nile river and", finish="length")
    assert res.detail == "hit max_new_tokens=160 mid-document"
    item = prompts(graded)[0]
    err = graded.parse(item, Generation(text="", finish_reason="error", error="timeout"), "s", "m")
    assert (err.stage, err.reason, err.detail) == ("documents", "llm_error", "timeout")


def test_negative_may_not_copy_the_positive_either():
    g = make(method="negative", variant="positive")
    res = parse(g, " " + PASSAGE.text)
    assert isinstance(res, Rejected) and res.reason == "copies_positive"


def test_a_long_positive_is_shown_cut_to_its_head():
    long = PASSAGE.model_copy(update={"text": PASSAGE.text + " filler" * 400 + " TAIL-ONLY"})
    g = DocumentGenerator(DocumentMethodConfig(method="negative", variant="positive"), GenerationConfig(),
                          LLMConfig(), ["en", "fr"], seed=7, passage_chars=300)
    [item] = g.build_prompts([QUERY], {PASSAGE.id: long})
    assert PASSAGE.text.split()[0] in item.text and "TAIL-ONLY" not in item.text
    assert item.passage is long
