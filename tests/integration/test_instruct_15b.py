"""The 1.5B instruct generator, for real: `model: embedded-instruct-1.5b` (Qwen2.5-Coder-1.5B-
Instruct Q4_K_M joined from its 22 registry packages and sha256-checked, extra
`[instruct-1-5b]`) writes Promptagator queries through llama.cpp's chat API for a French and an
English Wikipedia passage. Its German queries trained e5-small to the human arm's level on the
GNOME help (docs/results.md §8s); here the plumbing is checked and the queries printed: the
weights are the pinned ones, every sample is read strictly (a record or a known reason), and a
1.5B model following the instruction yields at least one query per passage."""

from __future__ import annotations

import json

import pytest

from data_schemas.config import RunConfig
from data_schemas.records import QueryRecord, Rejected
from synthir.generators import language_checker, query_generators
from synthir.llm.models import SPLIT, gguf_path
from synthir.llm.registry import get_llm
from tests.integration.test_chat_models import KNOWN

pytestmark = pytest.mark.slow


def test_embedded_instruct_15b_writes_queries(wiki_corpus):
    from data_schemas.records import Passage
    from gguf import GGUFReader

    cfg = RunConfig.model_validate({
        "corpus": {"path": str(wiki_corpus)}, "languages": ["en", "fr"],
        "llm": {"backend": "llamacpp", "model": "embedded-instruct-1.5b", "api": "chat", "max_new_tokens": 32,
                "temperature": 0.8, "top_p": 0.95},
        "generation": {"queries": [{"method": "promptagator", "num_queries": 2}]}})
    path = gguf_path(cfg.llm)
    assert path.stat().st_size == SPLIT["embedded-instruct-1.5b"].size
    name = GGUFReader(str(path)).fields["general.name"]
    assert bytes(name.parts[-1]).decode() == "Qwen2.5 Coder 1.5B Instruct GGUF"
    rows = [json.loads(line) for line in wiki_corpus.read_text(encoding="utf-8").splitlines()]
    picked = [next(r for r in rows if r["lang"] == lang and len(r["text"]) < 500) for lang in ("fr", "en")]
    passages = [Passage(id=r["id"], text=r["text"], lang=r["lang"]) for r in picked]
    gen = query_generators(cfg)[0]
    llm = get_llm(cfg.llm)
    assert llm.model_id == f"qwen2.5-coder-1.5b-instruct-q4_k_m.gguf@sha256:{SPLIT['embedded-instruct-1.5b'].sha256[:16]}"
    # one language per passage: its own (a monolingual prompt each)
    items = [i for i in gen.build_prompts(passages, cfg.languages) if i.lang == i.passage.lang]
    assert len(items) == 2
    outs = llm.generate([i.text for i in items], gen.sampling_params())
    assert len(outs) == 4 and not [g.error for g in outs if g.finish_reason == "error"]
    per_item = [outs[k * 2:(k + 1) * 2] for k in range(2)]
    for item, gens in zip(items, per_item):
        res = [gen.parse(item, g, llm.backend, llm.model_id, langid=language_checker(cfg)) for g in gens]
        for r in res:
            assert isinstance(r, QueryRecord) or (isinstance(r, Rejected) and r.reason in KNOWN), r
        kept = [r.query for r in res if isinstance(r, QueryRecord)]
        print(f"\n{item.passage.lang}: {item.passage.text[:80]!r} -> {kept} "
              f"({[r.reason for r in res if isinstance(r, Rejected)]})")
        assert kept, f"no query for the {item.passage.lang} passage"


def test_sap_with_in_domain_examples_summarized_by_the_15b(wiki_corpus, tmp_path):
    """`synthir examples --summarize CONFIG`: the 1.5B writes a French one-sentence summary for
    each example drawn from the human-train half of a small BEIR dir of real French passages
    (title = question); SAP (structured) then prompts with those examples and writes a
    summary and a query for another passage."""
    from data_schemas.config import GenerationConfig, QueryMethodConfig
    from data_schemas.records import Passage
    from synthir.cli import main
    from synthir.generators.queries import QueryGenerator
    from synthir.io.beir import write_beir
    from synthir.prompting import read_examples

    rows = [json.loads(line) for line in wiki_corpus.read_text(encoding="utf-8").splitlines()]
    fr = [r for r in rows if r["lang"] == "fr" and 150 < len(r["text"]) < 500 and r.get("title")][:9]
    write_beir(tmp_path / "beir", [{"_id": r["id"], "title": "", "text": r["text"]} for r in fr[:8]],
               [{"_id": f"q{i}", "text": r["title"], "lang": "fr"} for i, r in enumerate(fr[:8])],
               {"test": [(f"q{i}", r["id"], 1) for i, r in enumerate(fr[:8])]})
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(json.dumps({"corpus": {"path": str(wiki_corpus)}, "llm": {
        "backend": "llamacpp", "model": "embedded-instruct-1.5b", "api": "chat", "max_new_tokens": 32}}))
    out = tmp_path / "examples.jsonl"
    assert main(["examples", str(tmp_path / "beir"), "--n", "2", "--out", str(out), "--summarize", str(recipe)]) == 0
    examples, _ = read_examples(out)
    assert len(examples) == 2 and all(e["summary"] and e["summary"] != e["passage"] for e in examples), examples
    print("\n" + "\n".join(f"{e['query']!r}: {e['summary']!r}" for e in examples))
    cfg = RunConfig.model_validate(json.loads(recipe.read_text()))
    sap = QueryGenerator(QueryMethodConfig(method="sap", structured=True, num_examples=2,
                                           examples_file=str(out)), GenerationConfig(), cfg.llm, ["fr"], seed=0)
    item = sap.build_prompts([Passage(id=fr[8]["id"], text=fr[8]["text"], lang="fr")], ["fr"])[0]
    assert examples[0]["summary"] in item.text
    llm = get_llm(cfg.llm)
    gen = llm.generate([item.text], sap.sampling_params())[0]
    rec = sap.parse(item, gen, llm.backend, llm.model_id, langid=language_checker(cfg))
    print(f"{fr[8]['text'][:80]!r} -> {rec}")
    assert isinstance(rec, QueryRecord) and rec.summary and rec.method == "sap", rec
