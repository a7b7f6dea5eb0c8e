"""What every generator shares: the prompt item, the Rejected builder and the output checks.

Every check returns a `(reason, detail)` pair or None; reasons are stable strings that are
counted in the funnel and published in the `rejected` config.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz

from data_schemas.records import Passage, Provenance, QueryRecord, Rejected
from synthir.ids import content_id
from synthir.langid import LanguageID
from synthir.prompting import oneline
from synthir.redact import redact

LEAK_MARKERS = ("passage:", "search query", "summary:", "query:", "document:",
                "{{", "}}", "{%", "%}", "<start_of_turn>", "<end_of_turn>", "<|im_start|>",
                "<|im_end|>", "[inst]", "</s>")
QUOTES = "\"'“”«»‘’`"
QUESTION_MARKS = ("?", "？", "؟", "\u037e")  # U+037E is the Greek question mark
NO_SPACE_LANGS = frozenset({"zh", "ja", "th", "lo", "km", "my"})
_WORD = re.compile(r"\w+", re.UNICODE)

Check = tuple[str, str] | None
# Objects a template reads attributes of, with the attributes they have (checked at load).
OBJECTS = {"passage": frozenset(Passage.model_fields)}


@dataclass(frozen=True)
class PromptItem:
    """One rendered prompt. `attributes`: the diversity controls drawn for it; `examples`: the
    ids of its few-shot examples, `example_queries` their queries (the copy penalty avoids
    them); `query` and `level` are set for document prompts (the kept query, the graded level)."""

    prompt_id: str
    method: str
    lang: str
    text: str
    passage: Passage
    attributes: dict[str, str] = field(default_factory=dict)
    examples: tuple[str, ...] = ()
    example_queries: tuple[str, ...] = ()
    query: QueryRecord | None = None
    level: int | None = None


def reject(item: PromptItem, stage: str, reason: str, detail: str, raw: str,
           sample: int = 0) -> Rejected:
    """A Rejected row for `item` (the raw output is kept, cut to 500 chars; secrets in the
    detail or the raw output are masked: synthir.redact)."""
    return Rejected(id=content_id(stage, item.prompt_id, sample, reason), stage=stage,
                    reason=reason, detail=redact(detail)[:500], item_id=item.prompt_id,
                    passage_id=item.passage.id, lang=item.lang, raw=redact(raw)[:500], method=item.method)


def clean_line(text: str) -> str:
    """One line, surrounding quotes and whitespace removed."""
    return oneline(oneline(text).strip(QUOTES).strip())


def words(text: str) -> list[str]:
    """Lower-cased word tokens (Unicode-aware)."""
    return _WORD.findall(text.lower())


def draw_attributes(options: dict[str, list[str] | None], seed: int, *key: object) -> dict[str, str]:
    """Pick one value per set option with an RNG seeded by (seed, key): the same item always
    gets the same choice, whatever the order or shard it is generated in."""
    rng = random.Random(content_id(seed, *key))
    return {name: rng.choice(values) for name, values in options.items() if values}


def check_leak(text: str) -> Check:
    """Template text (labels, Jinja, chat-control tokens) in the output."""
    low = text.lower()
    leak = next((m for m in LEAK_MARKERS if m in low), None)
    return ("template_leak", f"contains {leak!r}") if leak else None


def check_length(text: str, min_chars: int, max_chars: int) -> Check:
    """too_short / too_long in characters."""
    if len(text) < min_chars:
        return "too_short", f"{len(text)} chars < {min_chars}"
    if len(text) > max_chars:
        return "too_long", f"{len(text)} chars > {max_chars}"
    return None


def is_copy(query: str, passage: str) -> bool:
    """A verbatim span of >= 8 words, or >= 60% of the passage, counts as a copy."""
    q = " ".join(words(query))
    p = " ".join(words(passage))
    if not q or q not in p:
        return False
    return len(q.split()) >= 8 or len(q) >= 0.6 * len(p)


def check_language(langid: LanguageID | None, text: str, lang: str) -> Check:
    """wrong_language when lingua clearly detects another language (see synthir.langid)."""
    if langid is None:
        return None
    res = langid.check(text, lang)
    return None if res.ok else ("wrong_language", res.detail(lang))


def check_query_type(query: str, qtype: str | None, lang: str) -> Check:
    """The query must look like the type that was asked for."""
    if not qtype:
        return None
    n = len(words(query))
    asks = query.rstrip().endswith(QUESTION_MARKS)
    spaced = lang not in NO_SPACE_LANGS
    if qtype == "keyword" and (asks or (spaced and n > 8)):
        return "type_mismatch", f"keyword query with {n} words{' and a question mark' if asks else ''}"
    if qtype == "question" and not asks:
        return "type_mismatch", "question without a question mark"
    if qtype == "claim" and asks:
        return "type_mismatch", "claim ends with a question mark"
    if qtype == "long_tail" and spaced and n < 5:
        return "type_mismatch", f"long-tail query of {n} words (< 5)"
    return None


LENGTH_WORDS = {"short": (1, 6), "medium": (3, 15), "long": (8, 60)}


def check_query_length(query: str, length: str | None, lang: str) -> Check:
    """The query's word count must fit the length class that was asked for."""
    if not length or lang in NO_SPACE_LANGS:
        return None
    lo, hi = LENGTH_WORDS[length]
    n = len(words(query))
    return None if lo <= n <= hi else ("length_mismatch", f"{length} query of {n} words ({lo}-{hi})")


def copies(text: str, other: str, threshold: float = 85.0) -> bool:
    """Near-copy of `other` (rapidfuzz ratio on lower-cased text >= threshold)."""
    return fuzz.ratio(text.lower(), other.lower()) >= threshold


class TemplateGenerator:
    """What the query and document generators share: `name`, `template`, `examples_sha`
    ({lang: sha256}), `seed` and `sampling_params()` give every record its provenance."""

    name: str
    template: Any
    examples_sha: dict[str, str]
    seed: int

    def sampling_params(self) -> Any:
        raise NotImplementedError

    def provenance(self, lang: str, backend: str, model_id: str, examples: list[str] | None = None) -> Provenance:
        """Provenance shared by every record this generator writes in `lang` (+ the ids of the
        few-shot examples its prompt showed)."""
        return Provenance(generator=self.name, template=self.template.name,
                          template_sha256=self.template.sha256,
                          examples_sha256=self.examples_sha[lang], model=model_id, backend=backend,
                          sampling=self.sampling_params().as_dict(), seed=self.seed,
                          examples=list(examples or []))
