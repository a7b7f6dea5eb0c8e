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
