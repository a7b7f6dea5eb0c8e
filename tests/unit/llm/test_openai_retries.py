"""Control flow of the openai backend against a scripted local HTTP server (429/5xx/4xx,
timeouts, the API key). The real-server tests are in tests/integration/test_openai_server.py."""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from data_schemas.config import LLMConfig
from synthir.llm.base import SamplingParams, sample_seed
from synthir.llm.openai_backend import OpenAILLM

SECRET = "sk-test-0123456789abcdef"


class Script:
    def __init__(self, replies):
        self.replies = list(replies)  # (status, body, headers) or ("sleep", seconds)
        self.seen: list[dict] = []
        self.lock = threading.Lock()


def make_server(script: Script) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with script.lock:
                script.seen.append({"path": self.path, "body": body,
                                    "auth": self.headers.get("Authorization")})
                reply = script.replies.pop(0) if script.replies else (200, None, {})
            if reply[0] == "sleep":
                threading.Event().wait(reply[1])
                reply = (200, None, {})
            status, payload, headers = reply
            if payload is None:
                payload = {"choices": [{"text": f" answer to {body.get('prompt')}", "finish_reason": "stop"}],
                           "usage": {"prompt_tokens": 3, "completion_tokens": 2}}
            data = json.dumps(payload).encode()
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def serve():
    servers = []

    def start(replies, **cfg):
        script = Script(replies)
        server = make_server(script)
        servers.append(server)
        conf = dict(backend="openai", model="m", base_url=f"http://127.0.0.1:{server.server_port}/v1",
                    api_key_env="SYNTHIR_TEST_KEY", max_retries=3, timeout_s=5)
        conf.update(cfg)
        return OpenAILLM(LLMConfig(**conf)), script

    yield start
    for s in servers:
        s.shutdown()


def test_retries_429_and_5xx_then_succeeds(serve, monkeypatch, caplog):
    monkeypatch.setenv("SYNTHIR_TEST_KEY", SECRET)
    llm, script = serve([(429, {"error": "slow down"}, {"Retry-After": "0"}),
                         (503, {"error": "busy"}, {"Retry-After": "0"})], max_concurrency=1)
    with caplog.at_level(logging.DEBUG):
        gens = llm.generate(["p1"], SamplingParams(max_tokens=4))
    assert gens[0].finish_reason == "stop" and gens[0].text == " answer to p1"
    assert len(script.seen) == 3 and llm.stats["retries"] == 2 and llm.stats["failed"] == 0
    assert all(s["auth"] == f"Bearer {SECRET}" for s in script.seen)
    assert script.seen[0]["path"] == "/v1/completions"
    assert SECRET not in caplog.text and SECRET not in repr(llm)
    assert "HTTP 429" in caplog.text


def test_gives_up_after_max_retries_with_counted_error(serve):
    llm, script = serve([(500, {"e": 1}, {"Retry-After": "0"})] * 10, max_retries=2)
    gens = llm.generate(["p"], SamplingParams())
    assert gens[0].finish_reason == "error" and "gave up after 3 attempts" in gens[0].error
    assert len(script.seen) == 3 and llm.stats["failed"] == 1


def test_client_errors_fail_at_once(serve):
    llm, script = serve([(400, {"error": "bad model"}, {})])
    gens = llm.generate(["p"], SamplingParams())
    assert gens[0].finish_reason == "error" and gens[0].error.startswith("HTTP 400")
    assert len(script.seen) == 1


def test_timeout_is_retried(serve):
    llm, script = serve([("sleep", 2.0)], timeout_s=0.5, max_retries=1)
    gens = llm.generate(["p"], SamplingParams())
    assert gens[0].finish_reason == "stop"
    assert llm.stats["retries"] == 1 and len(script.seen) == 2


def test_concurrent_requests_keep_prompt_order_and_n(serve):
    llm, script = serve([], max_concurrency=4)
    gens = llm.generate([f"p{i}" for i in range(6)], SamplingParams(n=2, temperature=0.5, seed=1))
    assert [g.text for g in gens] == [f" answer to p{i}" for i in range(6) for _ in range(2)]
    seeds = sorted(s["body"]["seed"] for s in script.seen if s["body"]["prompt"] == "p0")
    assert seeds == sorted(sample_seed(1, k, "p0") for k in range(2))


def test_connection_refused_is_counted_not_raised():
    cfg = LLMConfig(backend="openai", model="m", base_url="http://127.0.0.1:9/v1", max_retries=1)
    gens = OpenAILLM(cfg).generate(["a", "b"], SamplingParams())
    assert [g.finish_reason for g in gens] == ["error", "error"]
    assert all("connection error" in g.error for g in gens)
