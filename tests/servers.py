"""A real OpenAI-compatible server for tests: llama-cpp-python's server on a free loopback
port, serving a GGUF (the embedded Gemma by default). Its log holds one uvicorn access line per
request, so tests can count the LLM calls the server really received."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ALIAS = "gemma-3-270m"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_healthy(url: str, proc: subprocess.Popen, log: Path, timeout_s: float) -> None:
    """Poll `url` until it answers 200; RuntimeError (with the log's tail) if `proc` exits or
    `timeout_s` passes first."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} not healthy after {timeout_s} s: {log.read_text(errors='replace')[-2000:]}")


class Server:
    """A llama_cpp.server subprocess on a free loopback port."""

    def __init__(self, gguf: Path, log: Path, port: int | None = None, n_batch: int | None = None) -> None:
        """`n_batch=1` evaluates prompts one token at a time: slower, but a prompt's logits then
        do not depend on the prefix it shares with the previous request (the server reuses that
        KV cache, and llama.cpp's logits depend on where a prompt's evaluation is split)."""
        self.port = port or free_port()
        batch = ["--n_batch", str(n_batch), "--n_ubatch", str(n_batch)] if n_batch else []
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self.log = log
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--model_alias", ALIAS,
             "--host", "127.0.0.1", "--port", str(self.port), "--n_ctx", "2048",
             "--chat_format", "gemma", "--n_threads", "2", *batch],
            stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_until_healthy(f"{self.base_url}/models", self.proc, log, 180)
        except RuntimeError:
            self.kill()
            raise

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)

    def requests(self, path: str = "/v1/completions") -> int:
        """How many POST requests to `path` the server has logged so far."""
        return self.log.read_text(errors="replace").count(f'"POST {path} HTTP')
