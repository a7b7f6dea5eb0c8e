"""The `openai` backend against a REAL OpenAI-compatible server: llama-cpp-python's server
(`python -m llama_cpp.server`) serving the embedded Gemma GGUF on 127.0.0.1, started by the
test. Covers /v1/completions and /v1/chat/completions, concurrency, structured output (GBNF
grammar), and a server killed mid-run: retries and counted failures, then a resumed shard
that gets its finished calls back from the response cache.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from data_schemas.config import LLMConfig, RunConfig
from synthir.generators.queries import SAPOutput
from synthir.llm.base import SamplingParams, schema_json
from synthir.llm.openai_backend import OpenAILLM

from tests.servers import ALIAS, Server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def gguf() -> Path:
    from synthir.llm.models import embedded_gguf

    return embedded_gguf()[0]


@pytest.fixture(scope="module")
def server(gguf, tmp_path_factory):
    srv = Server(gguf, tmp_path_factory.mktemp("server") / "server.log")
    yield srv
    srv.kill()


def llm_cfg(base_url: str, **kw) -> LLMConfig:
    return LLMConfig(backend="openai", model=ALIAS, base_url=base_url, server="llamacpp",
                     **{"max_concurrency": 2, "timeout_s": 60, "max_retries": 2, **kw})


PROMPT = ("Passage: The Eiffel Tower is a wrought-iron lattice tower in Paris, completed in 1889.\n"
          "English search query: when was the eiffel tower built\n\n"
          "Passage: Mount Everest is Earth's highest mountain above sea level, in the Himalayas.\n"
          "English search query:")


def test_completions_concurrent_in_order(server):
    llm = OpenAILLM(llm_cfg(server.base_url, max_concurrency=3))
    prompts = [PROMPT, PROMPT.replace("Mount Everest", "The Nile"), PROMPT.replace("Mount Everest", "Paris")]
    gens = llm.generate(prompts, SamplingParams(max_tokens=16, stop=("\n",)))
    assert [g.finish_reason for g in gens] != ["error"] * 3
    assert all(g.finish_reason in ("stop", "length") and g.text.strip() for g in gens), gens
    assert all(g.prompt_tokens > 20 and g.completion_tokens > 0 for g in gens)
    # greedy decoding on one server: the same prompt gives the same text in any batch
    again = llm.generate([prompts[2]], SamplingParams(max_tokens=16, stop=("\n",)))
    assert again[0].text == gens[2].text
    assert llm.stats["failed"] == 0


def test_chat_endpoint(server):
    llm = OpenAILLM(llm_cfg(server.base_url, api="chat"))
    g = llm.generate(["Write one search query about the Eiffel Tower."], SamplingParams(max_tokens=24))[0]
    assert g.finish_reason in ("stop", "length") and g.text.strip()


def test_structured_output_is_valid_json(server):
    llm = OpenAILLM(llm_cfg(server.base_url))
    params = SamplingParams(max_tokens=120, json_schema=schema_json(SAPOutput.model_json_schema()))
    prompt = ("Passage: The Eiffel Tower is a wrought-iron lattice tower in Paris, completed in 1889.\n"
              "Output:")
    g = llm.generate([prompt], params)[0]
    assert g.finish_reason == "stop", g
    out = SAPOutput.model_validate_json(g.text)  # the grammar forces the schema
    assert out.summary and out.query
    assert g.text.lstrip().startswith('{"summary"')  # schema order: summary first


def test_server_killed_mid_run_counts_failures_then_resume_uses_cache(gguf, tmp_path, wiki_corpus):
    """SIGKILL the server while a shard is generating: the run finishes with llm_error rows
    (retries logged, no crash); after a restart the shard is redone and the calls that had
    finished come back from the response cache."""
    from synthir.pipeline import start
    from synthir.stages import run_stage
    from synthir.stages.common import make_llm
    from synthir.stages.generate import GENERATE
    from synthir.stages.ingest import INGEST

    srv = Server(gguf, tmp_path / "server.log")
    port = srv.port
    cfg = RunConfig.model_validate({
        "corpus": {"path": str(wiki_corpus)}, "sample": {"n": 6, "seed": 3, "languages": ["en"]},
        "languages": ["en", "fr"], "shard_size": 6,
        "llm": llm_cfg(srv.base_url, max_concurrency=1, batch_size=12, max_retries=1,
                       max_new_tokens=24).model_dump(),
        "generation": {"language_check": False},
        "output": {"dir": str(tmp_path / "out")}})
    paths = start(cfg)
    run_stage(INGEST, cfg, paths)
    shard = paths.shard_dirs()[0]
    llm = make_llm(cfg)

    def kill_after_three():
        deadline = time.time() + 300
        while time.time() < deadline:
            inner = llm._inner
            if inner is not None and inner.stats["requests"] >= 3:
                srv.kill()
                return
            time.sleep(0.05)

    t = threading.Thread(target=kill_after_three)
    t.start()
    try:
        stats = run_stage(GENERATE, cfg, paths, shard, llm=llm)
    finally:
        t.join()
        srv.kill()
    assert stats["complete"] is False and stats["llm_errors"] > 0
    assert stats["prompts"] == 12 and stats["llm_errors"] < 12
    inner = llm.inner
    assert inner.stats["failed"] == stats["llm_errors"] and inner.stats["retries"] >= stats["llm_errors"]
    rejected = [json.loads(line) for line in shard.generate_rejected.read_text().splitlines()]
    errors = [r for r in rejected if r["reason"] == "llm_error"]
    assert len(errors) == stats["llm_errors"]
    assert all("connection error" in r["detail"] or "gave up" in r["detail"] for r in errors)
    answered = 12 - stats["llm_errors"]

    srv2 = Server(gguf, tmp_path / "server2.log", port=port)
    try:
        llm2 = make_llm(cfg)
        stats2 = run_stage(GENERATE, cfg, paths, shard, llm=llm2)
    finally:
        srv2.kill()
    assert stats2["complete"] is True and stats2["llm_errors"] == 0
    assert stats2["tokens"]["cached_calls"] == answered  # nothing paid twice
    assert llm2.misses == stats["llm_errors"]
