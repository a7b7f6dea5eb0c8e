"""Every generator run for real on the embedded Gemma 3 270M GGUF (llama.cpp in-process, the
fast CPU path; the transformers path runs in test_end_to_end), on real Wikipedia passages in
English and French with English and French targets. Outputs must parse into records or be
rejected with a known, counted reason."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from data_schemas.config import RunConfig
from data_schemas.records import DocumentRecord, QueryRecord, Rejected
from synthir.generators import document_generators, language_checker, query_generators

pytestmark = pytest.mark.slow

QUERY_REASONS = {"llm_error", "empty", "malformed", "truncated", "template_leak", "too_short",
                 "too_long", "copied_from_passage", "copied_example", "wrong_language",
                 "type_mismatch", "length_mismatch", "invalid_record"}
DOC_REASONS = {"llm_error", "empty", "truncated", "template_leak", "too_short", "too_long",
               "echoes_query", "copies_positive", "wrong_language", "invalid_record"}


@pytest.fixture(scope="module")
def cfg(wiki_corpus) -> RunConfig:
    return RunConfig.model_validate({
        "corpus": {"path": str(wiki_corpus)}, "languages": ["en", "fr"],
        "llm": {"backend": "llamacpp", "max_new_tokens": 32},
        "generation": {
            "queries": [{"method": "promptagator"}, {"method": "sap"},
                        {"method": "sap", "structured": True, "max_new_tokens": 160},
                        {"method": "promptagator", "query_types": ["keyword", "question", "claim"],
                         "personas": ["a student"]}],
            "documents": [{"method": "graded"}, {"method": "negative", "variant": "query"},
                          {"method": "negative", "variant": "positive"}, {"method": "hyde"}]}})


@pytest.fixture(scope="module")
def llm(cfg):
    from synthir.llm.registry import get_llm

    return get_llm(cfg.llm)


@pytest.fixture(scope="module")
def passages(wiki_corpus):
    from data_schemas.records import Passage

    rows = [json.loads(line) for line in wiki_corpus.read_text(encoding="utf-8").splitlines()]
    by_lang = {"en": [], "fr": []}
    for r in rows:
        if len(by_lang[r["lang"]]) < 2 and 150 < len(r["text"]) < 700:
            by_lang[r["lang"]].append(Passage(id=r["id"], text=r["text"], title=r["title"], lang=r["lang"]))
    return by_lang["en"] + by_lang["fr"]


@pytest.fixture(scope="module")
def queries(cfg, llm, passages):
    langid = language_checker(cfg)
    results: dict[str, list] = {}
    for gen in query_generators(cfg):
        items = gen.build_prompts(passages, cfg.languages)
        params = gen.sampling_params()
        outs = llm.generate([i.text for i in items], params)
        key = gen.name + ("_json" if gen.m.structured else "") + ("_typed" if gen.m.query_types else "")
        results[key] = [gen.parse(i, g, llm.backend, llm.model_id, langid=langid)
                        for i, g in zip(items, outs)]
    return results


@pytest.mark.parametrize("method", ["promptagator", "sap", "sap_json", "promptagator_typed"])
def test_query_generator_runs_for_real(queries, method):
    res = queries[method]
    assert len(res) == 8  # 4 passages x 2 target languages
    records = [r for r in res if isinstance(r, QueryRecord)]
    reasons = Counter(r.reason for r in res if isinstance(r, Rejected))
    assert set(reasons) <= QUERY_REASONS, reasons
    assert "llm_error" not in reasons
    assert records, f"{method}: nothing parsed ({reasons})"
    assert {r.query_lang for r in records} <= {"en", "fr"}
    for r in records:
        assert r.provenance.backend == "llamacpp" and r.provenance.template_sha256
        if method.startswith("sap"):
            assert r.method == "sap" and r.summary
        if method.endswith("typed"):
            assert r.attributes["query_type"] in {"keyword", "question", "claim"}
            assert r.attributes["persona"] == "a student"


def test_queries_cover_both_languages(queries):
    langs = {r.query_lang for res in queries.values() for r in res if isinstance(r, QueryRecord)}
    assert langs == {"en", "fr"}


def test_document_generators_run_for_real(cfg, llm, passages, queries):
    kept = [r for r in queries["promptagator"] if isinstance(r, QueryRecord)]
    kept = sorted(kept, key=lambda r: r.query_lang)[:2] + sorted(kept, key=lambda r: r.query_lang)[-2:]
    assert {q.query_lang for q in kept} == {"en", "fr"}
    pmap = {p.id: p for p in passages}
    langid = language_checker(cfg)
    for gen in document_generators(cfg):
        items = gen.build_prompts(kept, pmap)
        assert len(items) == len(kept) * (4 if gen.name == "graded" else 1)
        outs = llm.generate([i.text for i in items], gen.sampling_params())
        res = [gen.parse(i, g, llm.backend, llm.model_id, langid=langid) for i, g in zip(items, outs)]
        docs = [r for r in res if isinstance(r, DocumentRecord)]
        reasons = Counter(r.reason for r in res if isinstance(r, Rejected))
        assert set(reasons) <= DOC_REASONS and "llm_error" not in reasons, reasons
        assert docs, f"{gen.name}: nothing parsed ({reasons})"
        for d in docs:
            assert d.query_id in {q.id for q in kept} and d.text
            assert d.kind == gen.m.method
            assert (d.level is not None) == (gen.name == "graded")
