"""`openai` backend: any OpenAI-compatible server (`vllm serve`, llama.cpp server, hosted APIs).

`llm.api: completions` posts to `/completions` (base models), `chat` to `/chat/completions`
(each rendered prompt is one user message). Requests run concurrently up to
`llm.max_concurrency`; each attempt has a total deadline of `llm.timeout_s` (connect + send +
headers + body: a server that trickles bytes times out too, counted in `stats["timeouts"]`);
408/409/429/5xx, timeouts and connection errors are retried up to `llm.max_retries` times with exponential backoff + jitter (honouring
Retry-After). Other 4xx fail at once. A failed prompt becomes Generation(error=...), never an
exception. The API key is read from the env var named by `llm.api_key_env`; it and any
`Bearer …` value a server echoes are masked (synthir.redact) in every error and log line. `n` > 1 is sent as n requests with n=1 (seed `sample_seed(seed, k, prompt)`), which
every server supports.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from data_schemas.config import LLMConfig
from synthir.llm.base import BackendOptions, Generation, SamplingParams, error_generations
from synthir.llm.models import model_identity
from synthir.llm.base import cut_at_stop, sample_seed
from synthir.redact import redact, register

log = logging.getLogger(__name__)
RETRY_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})


def structured_fields(params: SamplingParams, api: str, server: str) -> dict[str, Any]:
    """Request fields that constrain output to `params.json_schema` for this server flavour
    (empty when no schema is asked or the flavour cannot constrain this endpoint)."""
    schema = params.schema()
    if schema is None:
        return {}
    if api == "chat":
        if server == "llamacpp":
            return {"response_format": {"type": "json_object", "schema": schema}}
        return {"response_format": {"type": "json_schema",
                                    "json_schema": {"name": "output", "schema": schema, "strict": True}}}
    if server == "vllm":
        return {"structured_outputs": {"json": schema}}
    if server == "llamacpp":
        try:
            from synthir.llm.gbnf import schema_to_gbnf

            return {"grammar": schema_to_gbnf(params.json_schema or "")}
        except ImportError:  # the GBNF converter ships with llama-cpp-python
            return {}
    return {}  # OpenAI's /completions has no structured output


def to_request(prompt: str, params: SamplingParams, cfg: LLMConfig, sample: int = 0) -> dict[str, Any]:
    """The JSON body for one prompt and one sample (pure function)."""
    body: dict[str, Any] = {"model": cfg.model, "max_tokens": params.max_tokens,
                            "temperature": params.temperature, "top_p": params.top_p, "n": 1}
    if cfg.api == "chat":
        body["messages"] = [{"role": "user", "content": prompt}]
    else:
        body["prompt"] = prompt
    if params.stop:
        body["stop"] = list(params.stop)
    if params.seed is not None:
        body["seed"] = sample_seed(params.seed, sample, prompt)
    if cfg.structured_output:
        body.update(structured_fields(params, cfg.api, cfg.server))
    return body


def from_response(payload: dict[str, Any], api: str, stop: tuple[str, ...]) -> Generation:
    """Read one choice and the usage out of a response body (pure function)."""
    choices = payload.get("choices") or []
    if not choices or not isinstance(choices[0], dict):
        return Generation(text="", finish_reason="error", error="response has no choices")
    c = choices[0]
    text = (c.get("message") or {}).get("content") if api == "chat" else c.get("text")
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    text, found = cut_at_stop(text, stop)  # servers apply stop; this is a cheap second guard
    finish = "length" if c.get("finish_reason") == "length" and not found else "stop"
    usage = payload.get("usage") or {}
    return Generation(text=text, finish_reason=finish,
                      prompt_tokens=int(usage.get("prompt_tokens") or 0),
                      completion_tokens=int(usage.get("completion_tokens") or 0))


def backoff_delay(attempt: int, retry_after: str | None, rng: random.Random,
                  base: float = 0.5, cap: float = 30.0) -> float:
    """Seconds to wait before retry `attempt` (0-based): Retry-After when the server gives
    seconds, else base * 2**attempt with full jitter, capped."""
    if retry_after:
        try:
            return min(cap, max(0.0, float(retry_after)))
        except ValueError:
            pass
    return min(cap, base * (2 ** attempt)) * (0.5 + rng.random() / 2)


class Options(BackendOptions):
    """The openai backend's own `llm.*` keys."""

    base_url: str | None = None
    api_key_env: str | None = "OPENAI_API_KEY"
    max_concurrency: int = 8
    timeout_s: float = 120.0
    max_retries: int = 4
    server: str = "openai"


def run_coroutine(coro: Any) -> Any:
    """Run `coro` to completion from sync code, also from a thread that already runs an event
    loop (a notebook): then in a fresh thread with its own loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


class OpenAILLM:
    """Implements the LLM protocol over HTTP (see module doc). `stats` counts requests,
    retries, timeouts and failures for the run's report."""

    backend = "openai"
    model_identity = staticmethod(model_identity)  # `<model>@<base_url>`

    def __init__(self, cfg: LLMConfig) -> None:
        import httpx

        if not cfg.base_url:
            raise ValueError("llm.base_url is required for the openai backend")
        self.cfg = cfg
        self.opts = opts = Options.of(cfg)
        self.model_id = self.model_identity(cfg)
        self._headers = {"Content-Type": "application/json"}
        key = os.environ.get(opts.api_key_env) if opts.api_key_env else None
        if key:
            register(key)  # masked in every message, log line and rejected row from now on
            self._headers["Authorization"] = f"Bearer {key}"
        self._httpx = httpx
        self._rng = random.Random(0)  # jitter only; never the global RNG
        self._lock = threading.Lock()
        self.stats: Counter = Counter()

    def __repr__(self) -> str:  # never show headers (the key)
        return f"OpenAILLM(model={self.cfg.model!r}, base_url={self.opts.base_url!r})"

    def _count(self, key: str) -> None:
        with self._lock:
            self.stats[key] += 1

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        with self._lock:
            return backoff_delay(attempt, retry_after, self._rng)

    def _client(self) -> Any:
        """An async HTTP client for one generate() call (its connection pool)."""
        httpx, opts = self._httpx, self.opts
        return httpx.AsyncClient(
            base_url=(opts.base_url or "").rstrip("/"), headers=self._headers, timeout=opts.timeout_s,
            limits=httpx.Limits(max_connections=opts.max_concurrency,
                                max_keepalive_connections=opts.max_concurrency))

    async def _call(self, client: Any, slots: asyncio.Semaphore, prompt: str, params: SamplingParams,
                    sample: int) -> Generation:
        """One prompt sample: attempts under a total deadline each, retried with backoff."""
        httpx = self._httpx
        path = "/chat/completions" if self.cfg.api == "chat" else "/completions"
        body = to_request(prompt, params, self.cfg, sample)
        last = "no attempt"
        for attempt in range(self.opts.max_retries + 1):
            retry_after = None
            try:
                async with slots:  # counted once it is sent, not while it waits for a slot
                    self._count("requests")
                    async with asyncio.timeout(self.opts.timeout_s):  # connect + send + read, all of it
                        resp = await client.post(path, json=body)
            except (TimeoutError, httpx.TimeoutException):
                self._count("timeouts")
                last = f"timeout: no whole answer within llm.timeout_s={self.opts.timeout_s}s"
            except httpx.TransportError as exc:
                last = redact(f"connection error ({type(exc).__name__}: {exc})")
            else:
                if resp.status_code == 200:
                    try:
                        return from_response(resp.json(), self.cfg.api, params.stop)
                    except ValueError:
                        last = "response is not JSON"
                elif resp.status_code in RETRY_STATUS:
                    last = redact(f"HTTP {resp.status_code}: {resp.text[:200]}")
                    retry_after = resp.headers.get("retry-after")
                else:
                    self._count("failed")
                    return Generation(text="", finish_reason="error",
                                      error=redact(f"HTTP {resp.status_code}: {resp.text[:300]}"))
            if attempt < self.opts.max_retries:
                self._count("retries")
                delay = self._delay(attempt, retry_after)
                log.warning("openai backend: %s; retry %d/%d in %.1fs", last, attempt + 1,
                            self.opts.max_retries, delay)
                await asyncio.sleep(delay)
        self._count("failed")
        return Generation(text="", finish_reason="error",
                          error=f"gave up after {self.opts.max_retries + 1} attempts: {last}")

    async def _generate(self, jobs: list[tuple[str, int]], params: SamplingParams) -> list[Generation]:
        slots = asyncio.Semaphore(self.opts.max_concurrency)
        async with self._client() as client:
            return list(await asyncio.gather(*(self._call(client, slots, p, params, k) for p, k in jobs)))

    def generate(self, prompts: list[str], params: SamplingParams) -> list[Generation]:
        """n generations per prompt, grouped in prompt order; at most max_concurrency requests
        in flight."""
        jobs = [(p, k) for p in prompts for k in range(params.n)]
        if not jobs:
            return []
        try:
            return run_coroutine(self._generate(jobs, params))
        except Exception as exc:  # a bug in a worker must not lose the batch silently
            log.warning("openai backend batch failed: %s", redact(str(exc)))
            return error_generations(len(jobs), redact(f"{type(exc).__name__}: {exc}"))

    def close(self) -> None:
        """Nothing to close: each generate() call opens and closes its own connection pool."""
