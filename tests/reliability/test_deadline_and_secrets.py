"""Faults at the LLM server, for real (stdlib HTTP servers on 127.0.0.1): a server that
trickles one byte per second is cut off by `llm.timeout_s` (a total deadline), counted and
retried; a server that echoes the Authorization header never gets the key into a rejected
row, a log line or the published dataset."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from data_schemas.config import LLMConfig
from synthir.llm.base import SamplingParams
from synthir.llm.openai_backend import OpenAILLM
from tests.fake_openai import FakeOpenAI

KEY = "sk-live-9f8e7d6c5b4a39281706"


@pytest.fixture
def server(request):
    srv = FakeOpenAI(**request.param)
    yield srv
    srv.close()


@pytest.mark.parametrize("server", [{"mode": "trickle", "interval": 0.5}], indirect=True)
def test_trickling_server_hits_the_total_deadline_and_is_retried(server):
    llm = OpenAILLM(LLMConfig(backend="openai", model="m", base_url=server.base_url,
                              timeout_s=2, max_retries=1, api_key_env=None))
    out: list = []
    t0 = time.monotonic()
    worker = threading.Thread(target=lambda: out.extend(llm.generate(["p"], SamplingParams())), daemon=True)
    worker.start()
    worker.join(timeout=20)  # without a total deadline this call never returns
    elapsed = time.monotonic() - t0
    assert not worker.is_alive(), "llm.timeout_s is not a deadline: the request still runs after 20 s"
    [gen] = out
    assert gen.finish_reason == "error" and "timeout" in gen.error and "gave up after 2 attempts" in gen.error
    assert llm.stats["timeouts"] == 2 and llm.stats["retries"] == 1 and llm.stats["failed"] == 1
    assert server.requests == 2  # retried once, per max_retries
    # two attempts of 2 s each plus one backoff (< 1 s): never the hours a trickle could last
    assert 4.0 <= elapsed < 7.5, elapsed


@pytest.mark.parametrize("server", [{"mode": "echo", "status": 401}, {"mode": "echo", "status": 503}],
                         indirect=True)
def test_echoed_authorization_is_redacted(server, monkeypatch, caplog):
    monkeypatch.setenv("SYNTHIR_TEST_KEY", KEY)
    llm = OpenAILLM(LLMConfig(backend="openai", model="m", base_url=server.base_url,
                              api_key_env="SYNTHIR_TEST_KEY", max_retries=1, timeout_s=5))
    with caplog.at_level(logging.DEBUG):
        [gen] = llm.generate(["p"], SamplingParams())
    assert server.auth[0] == f"Bearer {KEY}"  # the key was sent...
    assert gen.finish_reason == "error" and "Bearer ***" in gen.error  # ...and echoed, masked
    assert KEY not in gen.error and KEY not in caplog.text
