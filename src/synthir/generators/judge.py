"""The judge's prompts and verdict parser (stage `judge`, Gecko's relabel step).

- `ChatJudge` (judge.kind: chat): one prompt per (query, passage) from `judge/graded.j2`; the
  answer must be one JSON object `{"grade": 0-3}` (`Verdict`, pydantic, extra keys refused).
  Where the backend can constrain decoding (llama.cpp grammar, vLLM structured outputs,
  OpenAI-compatible `response_format`) and `llm.structured_output` is on, the sampling params
  carry that schema, so the model cannot answer anything else; elsewhere the parser is the
  only guard and anything that is not exactly one such object is a failed verdict
  (`malformed_verdict`, never a guessed grade).
- `grade_of_p_yes` (judge.kind: yes_no): P(yes) of synthir.llm.judge.YesNoJudge cut into the
  same 0-3 scale at `judge.yes_no_cuts`.

Reference: Lee et al., 2024, "Gecko: Versatile Text Embeddings Distilled from Large Language
Models" (an LLM re-ranks the retrieved candidates and relabels the positive).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from data_schemas.config import JudgeConfig, LLMConfig
from synthir.generators.queries import CONSTRAINED_BACKENDS
from synthir.llm.base import Generation, SamplingParams, schema_json
from synthir.prompting import PromptLibrary

CHAT_TEMPLATE = "judge/graded.j2"
YES_NO_TEMPLATE = "teacher/yes_no.j2"
_OBJECT = re.compile(r"\{[^{}]*\}", re.DOTALL)


class Verdict(BaseModel):
    """The chat judge's answer: a grade on 0-3 (3 answers fully, 2 partly, 1 same topic
    without the answer, 0 unrelated)."""

    model_config = ConfigDict(extra="forbid", strict=True)
    grade: Literal[0, 1, 2, 3]  # an enum in the JSON schema: every grammar converter takes it

    @field_validator("grade", mode="before")
    @classmethod
    def _integer(cls, v: object) -> object:
        if type(v) is not int:  # Literal compares by ==: True and 2.0 would pass
            raise ValueError("grade must be an integer 0, 1, 2 or 3")
        return v


def template_name(cfg: JudgeConfig) -> str:
    """The judge's template: `judge.template`, else the kind's default."""
    return cfg.template or (CHAT_TEMPLATE if cfg.kind == "chat" else YES_NO_TEMPLATE)


def parse_verdict(gen: Generation) -> tuple[int | None, str | None]:
    """(grade, None) from a chat judge's completion, or (None, why) when the call failed or the
    answer is not exactly one `Verdict` object (a fenced ```json block is accepted; two objects,
    extra keys, a grade out of 0-3 or a string grade are not)."""
    if gen.finish_reason == "error":
        return None, f"llm_error: {gen.error or 'call failed'}"
    objects = _OBJECT.findall(gen.text)
    if len(objects) != 1:
        what = "no JSON object" if not objects else f"{len(objects)} JSON objects"
        cut = " (cut off at judge.max_new_tokens)" if gen.finish_reason == "length" else ""
        return None, f"malformed_verdict: {what} in {gen.text.strip()[:80]!r}{cut}"
    try:
        verdict = Verdict.model_validate_json(objects[0])
    except (ValueError, ValidationError) as exc:
        detail = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
        return None, f"malformed_verdict: {detail} in {objects[0][:80]!r}"
    return verdict.grade, None


def grade_of_p_yes(p_yes: float, cuts: Sequence[float]) -> int:
    """Grade 0-3 from P(yes): the number of cuts it reaches (cuts ascending)."""
    return sum(1 for c in cuts if p_yes >= c)


class ChatJudge:
    """prompt(query, passage) -> str; sampling_params(); parse_verdict(generation). `name`
    identifies the judge (model, template and its sha256) in the card and on each Judgment."""

    def __init__(self, cfg: JudgeConfig, llm: LLMConfig, model_id: str,
                 library: PromptLibrary | None = None) -> None:
        self.cfg, self.llm_cfg = cfg, llm
        self.lib = library or PromptLibrary()
        self.template = self.lib.template(template_name(cfg), {"query", "passage"})
        self.name = f"llm-judge:{model_id}:{self.template.name}@{self.template.sha256[:12]}"

    def files(self) -> dict[str, str]:
        """sha256 of the template (part of the run's fingerprint)."""
        return {self.template.name: self.template.sha256}

    @property
    def constrained(self) -> bool:
        """Decoding is constrained to the Verdict schema (backend and config allow it)."""
        return self.llm_cfg.structured_output and self.llm_cfg.backend in CONSTRAINED_BACKENDS

    def sampling_params(self) -> SamplingParams:
        """Greedy, `judge.max_new_tokens`, the Verdict schema when `constrained`."""
        schema = schema_json(Verdict.model_json_schema()) if self.constrained else None
        return SamplingParams(temperature=0.0, max_tokens=self.cfg.max_new_tokens, json_schema=schema)

    def prompt(self, query: str, passage: str) -> str:
        return self.template.render(query=query, passage=passage)
