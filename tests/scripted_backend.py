"""A scripted LLM backend, registered by name (`llm.backend: scripted`) so the real runners
(`synthir run` / `synthir filter`: response cache, budget ledger) drive it like any backend.

- A judge prompt (prompts/judge/graded.j2) is answered `{"grade": N}` from `RULES`: the first
  (query substring, passage substring, grade) that matches, else `DEFAULT_GRADE` (None: 3 when
  the passage holds every word of the query, else 1).
- Any other prompt (few-shot query prompts) is answered with the first three words of the
  last `Passage:` in it (+ the language code for non-English requests), like a model that
  copies a little.

Every prompt that reaches the backend is appended to `SENT` (response-cache hits never do),
so a test can count calls and check that none is sent twice. Token counts: prompt = words,
completion = 5.
"""

from __future__ import annotations

import json
import re

from pydantic import BaseModel

from synthir.llm.base import Generation

RULES: list[tuple[str, str, int]] = []
DEFAULT_GRADE: int | None = 0  # None: 3 when every word of the query is in the passage, else 1
SENT: list[str] = []
_LINE = re.compile(r"^(Query|Passage): (.*)$", re.MULTILINE)


def register() -> None:
    from synthir.llm.registry import register_backend

    register_backend("scripted", "tests.scripted_backend:ScriptedLLM")


def unregister() -> None:
    """Remove the name again (other tests list the registered backends)."""
    from synthir.llm.registry import BACKENDS

    BACKENDS.targets.pop("scripted", None)


class Options(BaseModel):
    """No backend-specific llm.* keys."""


def grade_of(query: str, passage: str) -> int:
    for q, p, g in RULES:
        if q.lower() in query.lower() and p.lower() in passage.lower():
            return g
    if DEFAULT_GRADE is None:
        words = set(re.findall(r"\w+", passage.lower()))
        return 3 if set(re.findall(r"\w+", query.lower())) <= words else 1
    return DEFAULT_GRADE


def answer(prompt: str) -> str:
    if prompt.startswith("Rate how well a passage"):
        fields = dict(_LINE.findall(prompt))
        return json.dumps({"grade": grade_of(fields.get("Query", ""), fields.get("Passage", ""))})
    last = prompt.rsplit("Passage:", 1)[-1]
    words = re.findall(r"\w+", last.split("\n", 1)[0])[:3]
    lang = re.findall(r"\n(\w+) search query:\s*$", prompt)
    tag = f" {lang[0].lower()}" if lang and lang[0] != "English" else ""
    return " " + " ".join(words) + tag + "\n"


class ScriptedLLM:
    backend = "scripted"

    def __init__(self, cfg) -> None:
        self.model_id = cfg.model

    def generate(self, prompts: list[str], params) -> list[Generation]:
        out = []
        for p in prompts:
            SENT.append(p)
            out += [Generation(text=answer(p), finish_reason="stop", prompt_tokens=len(p.split()),
                               completion_tokens=5) for _ in range(params.n)]
        return out
