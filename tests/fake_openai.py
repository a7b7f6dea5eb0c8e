"""Small real HTTP servers (stdlib `http.server` in a thread, on 127.0.0.1) that speak the
OpenAI completions API badly on purpose, for the fault-injection tests:

- `answer`: a fast scripted model (the first words after the prompt's last `Passage:`), that can
  hold every request until `release()` (to keep a run inside its lock) and counts requests;
- `trickle`: sends the headers, then one byte per `interval` seconds, forever;
- `echo`: fails with `status`, echoing the request's Authorization header in the error body.
"""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def scripted_answer(prompt: str) -> str:
    """A query-like answer: the first three words of the passage the prompt asks about."""
    last = prompt.rsplit("Passage:", 1)[-1]
    return " " + " ".join(re.findall(r"\w+", last)[:3]) + "\n"


class FakeOpenAI:
    """One server; `mode` is answer | trickle | echo (see module doc)."""

    def __init__(self, mode: str = "answer", status: int = 401, interval: float = 1.0,
                 hold: bool = False) -> None:
        self.mode, self.status, self.interval = mode, status, interval
        self.requests = 0
        self.auth: list[str | None] = []
        self.gate = threading.Event()
        if not hold:
            self.gate.set()
        self.entered = threading.Event()  # set by the first request
        self._lock = threading.Lock()
        self._stop = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # /v1/models: a health check
                self._send(200, {"data": [{"id": "m"}]})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                with fake._lock:
                    fake.requests += 1
                    fake.auth.append(self.headers.get("Authorization"))
                fake.entered.set()
                fake.gate.wait()
                if fake.mode == "trickle":
                    return self._trickle()
                if fake.mode == "echo":
                    return self._send(fake.status, {"error": {
                        "message": f"invalid credentials: Authorization: {self.headers.get('Authorization')}"}})
                prompt = body.get("prompt") or body["messages"][-1]["content"]
                self._send(200, {"choices": [{"text": scripted_answer(prompt), "finish_reason": "stop"}],
                                 "usage": {"prompt_tokens": 5, "completion_tokens": 3}})

            def _send(self, status: int, payload: dict) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _trickle(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "100000")
                self.end_headers()
                try:
                    while not fake._stop.is_set():
                        self.wfile.write(b" ")
                        self.wfile.flush()
                        time.sleep(fake.interval)
                except OSError:  # the client gave up: that is the point
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_port
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def release(self) -> None:
        """Let held requests (and later ones) be answered."""
        self.gate.set()

    def close(self) -> None:
        self._stop.set()
        self.gate.set()
        self.server.shutdown()
        self.server.server_close()
