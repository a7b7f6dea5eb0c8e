"""Promptagator few-shot query generation (Dai et al., 2022, "Promptagator: Few-shot Dense
Retrieval From 8 Examples").

Inputs: sampled passages, target query languages, a completion template (`prompts/query/...`)
and per-language few-shot example files (`{passage, query}` JSONL, up to 8 used).
Outputs: one `QueryRecord` per (passage, language) whose output parses, else a `Rejected`
with reason llm_error, empty, truncated, template_leak, too_short, too_long,
copied_from_passage, copied_example (a near-copy of a few-shot example query: small base
models often repeat one) or invalid_record. Cross-lingual when the query language differs from the
passage language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydantic import ValidationError
from rapidfuzz import fuzz

from data_schemas.config import GenerationConfig, LLMConfig
from data_schemas.languages import language_name
from data_schemas.records import Passage, Provenance, QueryRecord, Rejected
from synthir.errors import ConfigError
from synthir.ids import content_id
from synthir.llm.base import Generation, SamplingParams
from synthir.prompting import PromptLibrary, oneline

GENERATOR = "promptagator"
PROVIDED = frozenset({"task", "examples", "passage", "language", "language_name"})
LEAK_MARKERS = ("passage:", "search query:", "{{", "}}", "{%", "%}")
_QUOTES = "\"'“”«»‘’`"
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class QueryPrompt:
    """One rendered prompt: which passage, which target language, and the prompt text."""

    prompt_id: str
    passage: Passage
    lang: str
    text: str


class QueryGenerator:
    """Builds few-shot prompts and parses completions into QueryRecords (see module doc)."""

    def __init__(self, gen: GenerationConfig, llm: LLMConfig, languages: list[str], seed: int,
                 library: PromptLibrary | None = None) -> None:
        self.cfg = gen
        self.llm_cfg = llm
        self.seed = seed
        self.lib = library or PromptLibrary(gen.prompts_dir)
        self.template = self.lib.template(gen.template, PROVIDED)
        self.examples: dict[str, list[dict]] = {}
        self.examples_sha: dict[str, str] = {}
        for lang in languages:
            rows, sha = self.lib.examples(f"{gen.examples_dir}/{lang}.jsonl")
            bad = [i for i, r in enumerate(rows, 1) if not isinstance(r.get("passage"), str)
                   or not isinstance(r.get("query"), str)]
            if bad:
                raise ConfigError(f"{gen.examples_dir}/{lang}.jsonl: rows {bad} need string "
                                  "'passage' and 'query'")
            self.examples[lang] = rows[: gen.num_examples]
            self.examples_sha[lang] = sha

    def sampling_params(self) -> SamplingParams:
        """Greedy by default; one line per query (stop at newline)."""
        return SamplingParams(temperature=self.llm_cfg.temperature, top_p=self.llm_cfg.top_p,
                              max_tokens=self.llm_cfg.max_new_tokens, stop=("\n",),
                              seed=self.seed if self.llm_cfg.temperature > 0 else None)

    def build_prompts(self, passages: list[Passage], languages: list[str]) -> list[QueryPrompt]:
        """One prompt per (passage, target language), in passage order then language order."""
        items = []
        for p in passages:
            for lang in languages:
                text = self.template.render(
                    task=self.cfg.task, examples=self.examples[lang], passage=p,
                    language=lang, language_name=language_name(lang))
                pid = content_id(GENERATOR, p.id, lang, self.template.sha256, self.examples_sha[lang])
                items.append(QueryPrompt(prompt_id=pid, passage=p, lang=lang, text=text))
        return items

    def provenance(self, lang: str, backend: str, model_id: str) -> Provenance:
        """Provenance shared by every record generated for `lang` in this run."""
        return Provenance(generator=GENERATOR, template=self.template.name,
                          template_sha256=self.template.sha256,
                          examples_sha256=self.examples_sha[lang], model=model_id, backend=backend,
                          sampling=self.sampling_params().as_dict(), seed=self.seed)

    def _reject(self, item: QueryPrompt, stage: str, reason: str, detail: str, raw: str) -> Rejected:
        return Rejected(id=content_id(stage, item.prompt_id, reason), stage=stage, reason=reason,
                        detail=detail, item_id=item.prompt_id, passage_id=item.passage.id,
                        lang=item.lang, raw=raw[:500])

    def parse(self, item: QueryPrompt, gen: Generation, backend: str, model_id: str) -> QueryRecord | Rejected:
        """Read the first line of the completion as the query; validate; never raises."""
        if gen.finish_reason == "error":
            return self._reject(item, "generate", "llm_error", gen.error or "", gen.text)
        raw = gen.text
        line = raw.split("\n", 1)[0].strip()
        query = oneline(line.strip(_QUOTES).strip())
        if not query:
            return self._reject(item, "parse", "empty", "no text before the first newline", raw)
        if gen.finish_reason == "length" and "\n" not in raw:
            return self._reject(item, "parse", "truncated",
                                f"hit max_new_tokens={self.llm_cfg.max_new_tokens} mid-query", raw)
        low = query.lower()
        leak = next((m for m in LEAK_MARKERS if m in low), None)
        if leak:
            return self._reject(item, "parse", "template_leak", f"contains {leak!r}", raw)
        if len(query) < self.cfg.min_query_chars:
            return self._reject(item, "parse", "too_short",
                                f"{len(query)} chars < {self.cfg.min_query_chars}", raw)
        if len(query) > self.cfg.max_query_chars:
            return self._reject(item, "parse", "too_long",
                                f"{len(query)} chars > {self.cfg.max_query_chars}", raw)
        if _is_copy(query, item.passage.text):
            return self._reject(item, "parse", "copied_from_passage",
                                "query is a long verbatim span of the passage", raw)
        example = _copied_example(query, self.examples[item.lang])
        if example is not None:
            return self._reject(item, "parse", "copied_example",
                                f"near-copy of few-shot example {example!r}", raw)
        try:
            return QueryRecord(
                id=content_id(item.prompt_id, query, model_id),
                query=query, passage_id=item.passage.id, query_lang=item.lang,
                passage_lang=item.passage.lang, cross_lingual=item.lang != item.passage.lang,
                provenance=self.provenance(item.lang, backend, model_id))
        except ValidationError as exc:
            return self._reject(item, "parse", "invalid_record", str(exc)[:300], raw)


def _is_copy(query: str, passage: str) -> bool:
    """A verbatim span of >= 8 words, or >= 60% of the passage, counts as a copy."""
    q = " ".join(_WORD.findall(query.lower()))
    p = " ".join(_WORD.findall(passage.lower()))
    if not q or q not in p:
        return False
    return len(q.split()) >= 8 or len(q) >= 0.6 * len(p)


def _copied_example(query: str, examples: list[dict]) -> str | None:
    """The few-shot example query that `query` nearly copies (ratio >= 90), if any."""
    q = query.lower()
    for ex in examples:
        if fuzz.ratio(q, str(ex["query"]).lower()) >= 90:
            return str(ex["query"])
    return None
