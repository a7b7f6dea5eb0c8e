"""The budget ledger: what a run has spent on LLM calls, over every invocation, and the clean stop.

`Ledger` (opened by the runner for each invocation, `open_ledger(cfg)`) keeps `.synthir/budget.json`: calls
actually sent to a backend (response-cache hits are free and never reach it), their prompt and
completion tokens, their cost at `llm.price` (per million tokens), and the run's wall time
summed over invocations (`begin()` ... `end()`). `Metered` wraps a backend (inside the response
cache, so only sent prompts pass through it): before each batch it checks the limits of
`budget.*` and raises `BudgetExhausted` once one is reached; after it, it charges the batch. A
batch in flight is finished and charged, so a limit is overshot by at most one batch
(`llm.batch_size` prompts).

The LLM stages catch `BudgetExhausted` (synthir.stages.common.run_plan and the judge stage):
they stop sending, keep what they have, and mark themselves incomplete, so the next run redoes
them, from the cache for every call already made. The target-mode runner starts no new round
once the budget is spent. The card says the run stopped on budget and what was spent.
Not metered: the yes/no log-prob judges (teacher.kind llm, judge.kind yes_no), which score
in-process without generating.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from data_schemas.config import BudgetConfig, LLMPrice, RunConfig
from synthir.io.files import write_json_atomic
from synthir.llm.base import Generation, SamplingParams

SPENT = ("calls", "prompt_tokens", "completion_tokens", "cost", "seconds")


class BudgetExhausted(Exception):
    """A `budget.*` limit is reached: no new LLM call is sent (a control-flow signal, caught by
    the LLM stages; never a user error)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Ledger:
    """Spend of one run dir (see module doc). Thread-safe; written after every charged batch."""

    def __init__(self, path: Path, limits: BudgetConfig) -> None:
        self.path = Path(path)
        self.limits = limits
        self._lock = threading.Lock()
        self.spent: dict[str, float] = {k: 0 for k in SPENT}
        self.stopped: dict[str, Any] | None = None
        self.history: list[dict[str, Any]] = []
        if self.path.is_file():
            import json

            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
                self.spent.update({k: data.get("spent", {}).get(k, 0) for k in SPENT})
                self.history = list(data.get("invocations", []))
            except (OSError, ValueError):  # an unreadable ledger restarts from zero (said in the card)
                self.history = [{"note": "budget.json was unreadable and restarted"}]
        self._t0: float | None = None
        self._base_seconds = float(self.spent["seconds"])

    def begin(self) -> None:
        """Start an invocation: its wall time counts from now; a previous stop is cleared."""
        with self._lock:
            self._t0 = time.time()
            self._base_seconds = float(self.spent["seconds"])
            self.stopped = None
            self.history.append({"started": time.strftime("%Y-%m-%dT%H:%M:%S"), "limits": self._limits()})
            self._write()

    def end(self) -> None:
        """End an invocation (its wall time is added)."""
        with self._lock:
            self._tick()
            self._t0 = None
            self._write()

    def _limits(self) -> dict[str, Any]:
        return self.limits.model_dump()

    def _tick(self) -> None:
        if self._t0 is not None:
            self.spent["seconds"] = round(self._base_seconds + time.time() - self._t0, 3)

    def _write(self) -> None:
        write_json_atomic(self.path, {"spent": self.spent, "limits": self._limits(), "stopped": self.stopped,
                                      "invocations": self.history[-50:]})

    def exhausted(self) -> str | None:
        """The limit reached ("max_tokens: 1200 of 1000 tokens spent"), or None."""
        with self._lock:
            self._tick()
            s, lim = self.spent, self.limits
            tokens = s["prompt_tokens"] + s["completion_tokens"]
            if lim.max_tokens is not None and tokens >= lim.max_tokens:
                return f"max_tokens: {int(tokens)} of {lim.max_tokens} tokens spent"
            if lim.max_cost is not None and s["cost"] >= lim.max_cost:
                return f"max_cost: {s['cost']:.4f} of {lim.max_cost} spent"
            if lim.max_hours is not None and s["seconds"] >= lim.max_hours * 3600:
                return f"max_hours: {s['seconds'] / 3600:.3f} of {lim.max_hours} hours spent"
            return None

    def check(self) -> None:
        """Raise BudgetExhausted (and record the stop) when a limit is reached."""
        reason = self.exhausted()
        if reason:
            self.stop(reason)
            raise BudgetExhausted(reason)

    def stop(self, reason: str) -> None:
        """Record that the run stopped on budget (the card says so)."""
        with self._lock:
            if self.stopped is None:
                self.stopped = {"reason": reason, "at": time.strftime("%Y-%m-%dT%H:%M:%S")}
                self._write()

    def charge(self, gens: list[Generation], price: LLMPrice) -> None:
        """Add one sent batch's calls, tokens and cost."""
        p = sum(g.prompt_tokens for g in gens)
        c = sum(g.completion_tokens for g in gens)
        with self._lock:
            self.spent["calls"] += len(gens)
            self.spent["prompt_tokens"] += p
            self.spent["completion_tokens"] += c
            self.spent["cost"] = round(self.spent["cost"] + p / 1e6 * price.input_per_mtok
                                       + c / 1e6 * price.output_per_mtok, 9)
            self._tick()
            self._write()

    def summary(self) -> dict[str, Any]:
        """{"spent", "limits", "stopped"} (funnel.json, the card, plan)."""
        with self._lock:
            self._tick()
            return {"spent": dict(self.spent), "limits": self._limits(), "stopped": self.stopped}


_LEDGERS: dict[str, Ledger] = {}
_LEDGERS_LOCK = threading.Lock()


def _key(cfg: RunConfig) -> str:
    return str(Path(cfg.output.dir).resolve())


def open_ledger(cfg: RunConfig) -> Ledger:
    """Start an invocation of the run in `cfg.output.dir` (the runners call it holding the
    output dir's lock): read its budget.json, begin timing; from now on `make_llm` meters the
    LLMs of this run."""
    from synthir.rundir import RunDir

    led = Ledger(RunDir(Path(cfg.output.dir)).budget, cfg.budget)
    with _LEDGERS_LOCK:
        _LEDGERS[_key(cfg)] = led
    led.begin()
    return led


def active_ledger(cfg: RunConfig) -> Ledger | None:
    """The ledger a runner opened for `cfg.output.dir` in this process, or None (a stage run on
    its own, a notebook: nothing is metered)."""
    with _LEDGERS_LOCK:
        return _LEDGERS.get(_key(cfg))


def close_ledger(cfg: RunConfig) -> None:
    """End the invocation (its wall time is added) and stop metering this run."""
    with _LEDGERS_LOCK:
        led = _LEDGERS.pop(_key(cfg), None)
    if led is not None:
        led.end()


def read_summary(path: Path) -> dict[str, Any] | None:
    """budget.json's {"spent", "limits", "stopped"}, or None when absent / unreadable."""
    import json

    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return {k: data.get(k) for k in ("spent", "limits", "stopped")}


class Metered:
    """An LLM backend whose sent calls are charged to a Ledger and refused once the budget is
    spent (see module doc). Passes `backend`, `model_id` and any other attribute through."""

    def __init__(self, inner: Any, led: Ledger, price: LLMPrice) -> None:
        self.inner, self.ledger, self.price = inner, led, price
        self.backend = inner.backend
        self.model_id = inner.model_id

    def generate(self, prompts: list[str], params: SamplingParams) -> list[Generation]:
        self.ledger.check()
        out = self.inner.generate(prompts, params)
        self.ledger.charge([g for g in out if g.finish_reason != "error"], self.price)
        return out

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)
