"""synthir.langid with the real lingua detector, and its use in the query/document parsers."""

import pytest

from data_schemas.config import DocumentMethodConfig, GenerationConfig, LLMConfig, QueryMethodConfig
from data_schemas.records import DocumentRecord, Passage, Provenance, QueryRecord, Rejected
from synthir.generators.common import check_language
from synthir.generators.documents import DocumentGenerator
from synthir.generators.queries import QueryGenerator
from synthir.langid import LanguageID, supported
from synthir.llm.base import Generation

EN = "The river flows north through the desert and finally reaches the sea."
FR = "Le fleuve traverse le désert vers le nord et se jette dans la mer Méditerranée."
PASSAGE = Passage(id="en:Nile", lang="en",
                  text="The Nile is a major north-flowing river in northeastern Africa. It flows into "
                       "the Mediterranean Sea and is about 6,650 km long.")


@pytest.fixture(scope="module")
def lid():
    return LanguageID(["en", "fr"])


def test_clear_sentences_are_recognised(lid):
    en = lid.check(EN, "en")
    assert en.ok and en.detected == "en" and en.expected_confidence > 0.5
    fr = lid.check(FR, "fr")
    assert fr.ok and fr.detected == "fr" and fr.expected_confidence > 0.5


def test_wrong_language_fails_with_detail(lid):
    res = lid.check(EN, "fr")
    assert res.ok is False
    assert res.detected == "en"
    assert res.expected_confidence < lid.min_confidence
    assert res.detail("fr").startswith("detected en (")
    assert "expected fr (" in res.detail("fr")
    assert lid.check(FR, "en").ok is False


def test_language_lingua_lacks_passes(lid):
    assert not supported("no")  # lingua has nb / nn, not the macro-language "no"
    assert supported("fr") and supported("en")
    res = lid.check(EN, "no")
    assert res.ok is True and res.detected == ""
    assert LanguageID(["en", "no"]).codes == lid.codes  # "no" cannot be added


def test_check_language_helper(lid):
    assert check_language(None, EN, "fr") is None
    assert check_language(lid, FR, "fr") is None
    reason, detail = check_language(lid, EN, "fr")
    assert reason == "wrong_language" and detail.startswith("detected en")


def test_query_parse_rejects_wrong_language(lid):
    gen = QueryGenerator(QueryMethodConfig(), GenerationConfig(), LLMConfig(), ["en", "fr"], seed=7)
    item = next(i for i in gen.build_prompts([PASSAGE], ["en", "fr"]) if i.lang == "fr")
    res = gen.parse(item, Generation(text=" How long is the Nile river in kilometres?",
                                     finish_reason="stop"), "scripted", "scripted-model", langid=lid)
    assert isinstance(res, Rejected)
    assert res.reason == "wrong_language" and res.stage == "parse"
    assert "detected en" in res.detail
    ok = gen.parse(item, Generation(text=" Quelle est la longueur du Nil en kilomètres ?",
                                    finish_reason="stop"), "scripted", "scripted-model", langid=lid)
    assert isinstance(ok, QueryRecord) and ok.query_lang == "fr"
    # without a detector, no language check
    same = gen.parse(item, Generation(text=" How long is the Nile river in kilometres?",
                                      finish_reason="stop"), "scripted", "scripted-model")
    assert isinstance(same, QueryRecord)


def test_document_parse_rejects_wrong_language(lid):
    prov = Provenance(generator="promptagator", template="t", template_sha256="t", examples_sha256="e",
                      model="m", backend="b", sampling={}, seed=7)
    q = QueryRecord(id="q-fr", query="longueur du Nil", passage_id=PASSAGE.id, query_lang="fr",
                    passage_lang="en", cross_lingual=True, provenance=prov)
    gen = DocumentGenerator(DocumentMethodConfig(method="hyde"), GenerationConfig(), LLMConfig(),
                            ["en", "fr"], seed=7)
    [item] = gen.build_prompts([q], {PASSAGE.id: PASSAGE})
    res = gen.parse(item, Generation(text=" " + EN, finish_reason="stop"), "s", "m", langid=lid)
    assert isinstance(res, Rejected) and res.reason == "wrong_language" and res.stage == "documents"
    ok = gen.parse(item, Generation(text=" " + FR, finish_reason="stop"), "s", "m", langid=lid)
    assert isinstance(ok, DocumentRecord) and ok.lang == "fr"


def test_passage_language_detection_with_confidence():
    from synthir.langid import PassageLanguage

    det = PassageLanguage()
    out = det.detect([FR, "Der Rhein ist ein Strom in Mitteleuropa und mündet in die Nordsee.", EN,
                      "12345 67890 !!", ""])
    assert [c for c, _ in out] == ["fr", "de", "en", "und", "und"]
    assert all(conf > 0.5 for _, conf in out[:3]) and out[3][1] == 0.0
    # restricted candidates: a language outside them is und, never a wrong guess
    assert PassageLanguage(["de"]).detect([EN])[0][0] == "und"
    assert PassageLanguage(["de", "fr"]).detect([FR])[0][0] == "fr"


def test_language_codes_are_normalised():
    from data_schemas.languages import is_cross_lingual, normalize_language

    assert [normalize_language(c) for c in ("pt-BR", "pt_BR", "PT", "pt_BR.UTF-8", "zh-Hant", "fra",
                                              "ger", "", "Unknown", "und", "iw")] == \
        ["pt", "pt", "pt", "pt", "zh", "fr", "de", "und", "und", "und", "he"]
    assert is_cross_lingual("en", "EN") is False and is_cross_lingual("fr", "en") is True
    assert is_cross_lingual("en", "und") is None


def test_query_for_an_undetermined_passage_is_not_marked_cross_lingual():
    gen = QueryGenerator(QueryMethodConfig(num_examples=0), GenerationConfig(language_check=False),
                         LLMConfig(), ["en"], 0)
    [item] = gen.build_prompts([Passage(id="u", lang="und", text="1234 5678 90 digits only here")], ["en"])
    rec = gen.parse(item, Generation(text=" code numbers\n", finish_reason="stop"), "b", "m")
    assert isinstance(rec, QueryRecord) and rec.cross_lingual is None
