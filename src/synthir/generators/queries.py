"""Query generators, one per `generation.queries[]` entry, run for every (passage, language).

- promptagator (Dai et al., 2022, "Promptagator: Few-shot Dense Retrieval From 8 Examples"):
  a task description + up to 8 `{passage, query}` examples, then the passage; the model's
  first line is the query.
- sap (SWIM-IR, Thakur et al., 2024, summarize-then-ask): the model first summarises the
  passage, then writes a query in the target language (cross-lingual when the target
  language differs from the passage's). Line format ("summary" then "<Language> query: …")
  or, with `structured: true`, one JSON object validated by `SAPOutput`.

Diversity controls (query_types, lengths, difficulties, personas) are drawn per prompt from a
seeded RNG, rendered into the prompt, recorded on the query, and checked where checkable
(type_mismatch, length_mismatch).

Output per sample: a QueryRecord, or a Rejected with reason llm_error, empty, malformed,
truncated, template_leak, too_short, too_long, copied_from_passage, copied_example,
wrong_language, type_mismatch, length_mismatch or invalid_record.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import random
import re
from pathlib import Path

from rapidfuzz import fuzz

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from data_schemas.config import GenerationConfig, LLMConfig, QueryMethodConfig
from data_schemas.languages import is_cross_lingual, language_name
from data_schemas.records import Passage, QueryRecord, Rejected
from synthir.errors import ConfigError
from synthir.generators.chat import chat_answer, strip_answer
from synthir.generators.common import (OBJECTS, PromptItem, TemplateGenerator, check_language,
                                       check_leak, check_length,
                                       check_query_length, check_query_type, clean_line, copies,
                                       draw_attributes, is_copy, reject)
from synthir.ids import content_id
from synthir.langid import LanguageID
from synthir.llm.base import LOGIT_BIAS_BACKENDS, Generation, SamplingParams, schema_json
from synthir.prompting import PromptLibrary, read_examples
from synthir.sampling import prompt_passage

PROVIDED = frozenset({"task", "examples", "passage", "language", "language_name",
                      "passage_language_name", "query_type", "length", "difficulty", "persona"})
DEFAULTS = {
    "promptagator": {"template": "query/promptagator.j2", "examples": "query/examples",
                     "task": "Write a short search query that this passage answers."},
    "sap": {"template": "sap/summarize_then_ask.j2", "examples": "sap/examples",
            "task": "Summarize the passage in one sentence, then write a search query in the "
                    "requested language that the passage answers."},
}
_QUERY_LINE = re.compile(r"^\s*[^:\n]{0,40}\bquery\s*:\s*(.*)$", re.IGNORECASE | re.MULTILINE)


class PromptagatorOutput(BaseModel):
    """A Promptagator completion: one query."""

    model_config = ConfigDict(extra="forbid")
    query: str = Field(min_length=1)


class SAPOutput(BaseModel):
    """A summarize-then-ask completion: the summary, then the query."""

    model_config = ConfigDict(extra="forbid")
    summary: str = Field(min_length=1)
    query: str = Field(min_length=1)


def example_id(example: dict) -> str:
    """A few-shot example's id: its `id` field, else a hash of its passage and query."""
    return str(example.get("id") or content_id("example", example["passage"], example["query"])[:12])


CHAT_MIN_TOKENS = 64  # chat answers need room for a preamble line before the query
# Backends that can constrain decoding to a JSON schema (llama.cpp grammar, vLLM structured
# outputs, response_format / grammar on OpenAI-compatible servers).
CONSTRAINED_BACKENDS = frozenset({"llamacpp", "vllm", "openai"})


class QueryGenerator(TemplateGenerator):
    """build_prompts(passages) -> PromptItems; parse(item, gen, ...) -> QueryRecord | Rejected.

    Inputs: one QueryMethodConfig, the shared GenerationConfig / LLMConfig, the target query
    languages and the run seed. Loads (and checks) the template and per-language examples.
    """

    def __init__(self, method: QueryMethodConfig, gen: GenerationConfig, llm: LLMConfig,
                 languages: list[str], seed: int, library: PromptLibrary | None = None,
                 langid: LanguageID | None = None, pool: dict[str, list[dict]] | None = None,
                 passage_chars: int | None = None) -> None:
        self.m = method
        self.passage_chars = passage_chars  # prompts show a longer passage's head (sample.max_chars)
        self.cfg = gen
        self.llm_cfg = llm
        self.seed = seed
        self.name = method.method
        d = DEFAULTS[method.method]
        self.task = method.task or d["task"]
        self.lib = library or PromptLibrary(gen.prompts_dir)
        self.template = self.lib.template(method.template or self._default_template(d["template"]),
                                          PROVIDED, OBJECTS)
        ex_dir = method.examples_dir or ("query/typed_examples" if method.query_types and
                                         method.method == "promptagator" else d["examples"])
        self.examples_dir = ex_dir
        need = {"passage", "query"} | ({"summary"} if method.method == "sap" else set())
        if method.query_types:
            need.add("type")
        self.examples: dict[str, list[dict]] = {}  # the rows prompts draw from
        self.copy_pool: dict[str, list[dict]] = {}  # + retired rows: copies of any are rejected
        self.examples_sha: dict[str, str] = {}
        self.pool_names: dict[str, str] = {}
        self._common: dict[str, str] = {}  # common_words per language
        for lang in languages:
            rows, sha, name = self._pool(lang, pool)
            self.pool_names[lang] = name
            bad = [i for i, r in enumerate(rows, 1) if not all(isinstance(r.get(k), str) for k in need)]
            if bad:
                raise ConfigError(f"{name}: rows {bad} need string fields {sorted(need)}")
            if method.query_types:
                missing = [t for t in method.query_types if not any(r["type"] == t for r in rows)]
                if missing and method.num_examples:
                    raise ConfigError(f"{name} has no example of query type(s) {missing}")
            self.copy_pool[lang] = rows
            self.examples[lang] = [r for r in rows if not r.get("retired")]
            self.examples_sha[lang] = sha
        self.options = {"query_type": method.query_types, "length": method.lengths,
                        "difficulty": method.difficulties, "persona": method.personas}

    def _pool(self, lang: str, pool: dict[str, list[dict]] | None) -> tuple[list[dict], str, str]:
        """(rows, sha256, name) of the language's few-shot pool: `pool` (the probe stage's rows:
        the bootstrap pilot's kept pairs or the probed pool file; rows with `retired` are never
        drawn) when it has rows for `lang`, else `examples_file` (the user's in-domain
        pairs: rows with this `lang` or none; at most 8, Promptagator's few-shot), else
        `<examples_dir>/<lang>.jsonl` of the prompt library."""
        if pool and pool.get(lang):
            rows = pool[lang]
            sha = hashlib.sha256(json.dumps(rows, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
            return rows, sha, str(rows[0].get("source") or f"bootstrap:{self.name}/{lang}")
        if self.m.examples_file:
            path = Path(self.m.examples_file)
            rows, sha = read_examples(path)
            rows = [r for r in rows if r.get("lang") in (None, lang)]
            if not rows:
                raise ConfigError(f"examples_file {path.name}: no example for language {lang} (rows need "
                                  f"lang {lang!r} or no lang)")
            if len(rows) > 8:
                raise ConfigError(f"examples_file {path.name}: {len(rows)} examples for {lang}; give at most 8 "
                                  "in-domain pairs per language (Promptagator's few-shot)")
            return rows, sha, f"examples_file:{path.name}"
        rows, sha = self.lib.examples(f"{self.examples_dir}/{lang}.jsonl")
        return rows, sha, f"{self.examples_dir}/{lang}.jsonl"

    @property
    def chat_json(self) -> bool:
        """Promptagator on a chat model whose backend can constrain decoding (and
        llm.structured_output on): the answer is the JSON object {"query": ...} (PromptagatorOutput),
        so no preamble, label or explanation can reach the parser."""
        return (self.name == "promptagator" and self.llm_cfg.api == "chat" and self.llm_cfg.structured_output
                and self.llm_cfg.backend in CONSTRAINED_BACKENDS)

    def _default_template(self, base: str) -> str:
        """The method's template: `…_json.j2` when structured; with `llm.api: chat`, a
        `…_chat.j2` variant when the library has one (instruction-style, for chat models),
        `…_chat_json.j2` when the chat answer is constrained to JSON (`chat_json`)."""
        name = base.replace(".j2", "_json.j2") if self.m.structured else base
        chat = name.replace(".j2", "_chat_json.j2" if self.chat_json else "_chat.j2")
        if self.llm_cfg.api == "chat" and (self.lib.root / chat).is_file():
            return chat
        return name

    def files(self) -> dict[str, str]:
        """sha256 of the template and every example file this generator reads."""
        shas = {self.template.name: self.template.sha256}
        shas.update({self.pool_names[lang]: s for lang, s in self.examples_sha.items()})
        return shas

    @property
    def per_prompt_params(self) -> bool:
        """Whether each prompt has its own SamplingParams (the copy penalty's texts)."""
        return bool(self.m.copy_penalty) and self.llm_cfg.backend in LOGIT_BIAS_BACKENDS

    def common_words(self, lang: str) -> str:
        """The words that occur in at least 2 queries of the language's pool (its function
        words: "de", "comment", "wie"), space-joined: the copy penalty leaves them alone, so
        the model can still write the language."""
        if lang not in self._common:
            seen: dict[str, int] = {}
            for r in self.examples[lang]:
                for w in set(re.findall(r"\w+", str(r["query"]))):
                    seen[w] = seen.get(w, 0) + 1
            self._common[lang] = " ".join(sorted(w for w, n in seen.items() if n >= 2))
        return self._common[lang]

    def sampling_params(self, item: PromptItem | None = None) -> SamplingParams:
        """Greedy by default. promptagator: one line. sap: summary + query lines (or one JSON
        line when structured, constrained to SAPOutput's schema where the backend can).
        With `copy_penalty` > 0 on a backend that takes a logit bias (LOGIT_BIAS_BACKENDS; on
        the others it is not applied and not recorded) and an `item`, the prompt's own logit
        penalty: its few-shot queries are avoided, except the words of its passage and the
        pool's common words (SamplingParams.logit_penalty; without an item, the penalty alone,
        for provenance)."""
        params = self._base_params()
        if not self.per_prompt_params:  # no penalty, or a backend that cannot apply it (config warns)
            return params
        extra: dict = {"logit_penalty": self.m.copy_penalty}
        if item is not None and item.example_queries:
            extra.update(avoid=item.example_queries,
                         allow=f"{item.passage.title or ''} {item.passage.text} {self.common_words(item.lang)}")
        return dataclasses.replace(params, **extra)

    def _base_params(self) -> SamplingParams:
        """The method's sampling parameters, the same for every prompt."""
        base = self.m.max_new_tokens or self.llm_cfg.max_new_tokens
        schema = None
        if self.chat_json:  # one JSON object, constrained to PromptagatorOutput's schema
            stop, max_tokens = (), self.m.max_new_tokens or max(base, CHAT_MIN_TOKENS)
            schema = schema_json(PromptagatorOutput.model_json_schema())
        elif self.name == "promptagator" and self.llm_cfg.api == "chat":
            # chat models often open with a preamble line: read the whole answer (chat_answer)
            stop, max_tokens = ("\n\n\n",), self.m.max_new_tokens or max(base, CHAT_MIN_TOKENS)
        elif self.name == "promptagator":
            stop, max_tokens = ("\n",), base
        elif self.m.structured:
            stop, max_tokens = ("\n",), self.m.max_new_tokens or 3 * base
            if self.llm_cfg.structured_output:
                schema = schema_json(SAPOutput.model_json_schema())
        else:
            stop, max_tokens = ("\n\n", "\nPassage:"), self.m.max_new_tokens or 3 * base
        return SamplingParams(temperature=self.llm_cfg.temperature, top_p=self.llm_cfg.top_p,
                              max_tokens=max_tokens, stop=stop, n=self.m.num_queries,
                              seed=self.seed if self.llm_cfg.temperature > 0 else None,
                              json_schema=schema)

    def _examples_for(self, lang: str, attrs: dict[str, str], passage: Passage) -> list[dict]:
        """The prompt's few-shot examples: `first` takes the first num_examples rows; `sample`
        (Promptagator: a different draw per prompt) drops pool rows whose passage is at least
        `example_max_similarity` similar to `passage`, then draws num_examples with an RNG
        seeded on (run seed, method, passage, language). `example_order: short_last` then
        orders them by query length, longest first (stable): a small base model mostly copies
        the example right before the passage, and long queries most (docs/results.md §8d)."""
        rows = self.examples[lang]
        if "query_type" in attrs:
            rows = [r for r in rows if r.get("type") == attrs["query_type"]]
        k = self.m.num_examples
        if self.m.example_selection == "first" or k == 0:
            chosen = rows[:k]
        else:
            rows = [r for r in rows if fuzz.token_set_ratio(r["passage"], passage.text) < self.m.example_max_similarity]
            rng = random.Random(f"{self.seed}:{self.name}:{passage.id}:{lang}:examples")
            chosen = rng.sample(rows, min(k, len(rows)))
        if self.m.example_order == "short_last":
            chosen = sorted(chosen, key=lambda r: -len(str(r["query"])))
        return chosen

    def build_prompts(self, passages: list[Passage], languages: list[str]) -> list[PromptItem]:
        """One prompt per (passage, target language), in passage order then language order.
        The prompt shows a passage longer than `passage_chars` cut to its head; the item (and so
        every record and check) keeps the whole passage."""
        items = []
        for p in passages:
            for lang in languages:
                attrs = draw_attributes(self.options, self.seed, self.name, p.id, lang)
                examples = self._examples_for(lang, attrs, p)
                text = self.template.render(
                    task=self.task, examples=examples, passage=prompt_passage(p, self.passage_chars),
                    language=lang, language_name=language_name(lang),
                    passage_language_name=_lang_name(p.lang),
                    query_type=attrs.get("query_type"), length=attrs.get("length"),
                    difficulty=attrs.get("difficulty"), persona=attrs.get("persona"))
                ids = tuple(example_id(e) for e in examples)
                drawn = [list(ids)] if self.m.example_selection == "sample" or self.m.example_order != "drawn" else []
                pid = content_id(self.name, p.id, lang, self.template.sha256,
                                 self.examples_sha[lang], self.task, attrs, *drawn)
                items.append(PromptItem(prompt_id=pid, method=self.name, lang=lang, text=text,
                                        passage=p, attributes=attrs, examples=ids,
                                        example_queries=tuple(str(e["query"]) for e in examples)))
        return items

    def read_output(self, raw: str, truncated: bool) -> PromptagatorOutput | SAPOutput | tuple[str, str]:
        """Read a completion into the method's pydantic output, or (reason, detail)."""
        text = raw.strip()
        if not text:
            return "empty", "no text"
        if self.name == "promptagator" and self.llm_cfg.api == "chat" and text.startswith("{"):
            try:
                out = PromptagatorOutput.model_validate_json(text)
            except ValidationError as exc:
                if truncated:
                    return "truncated", "JSON cut off at max_new_tokens"
                return "malformed", f"invalid JSON output: {_first_error(exc)}"
            query = clean_line(strip_answer(out.query))  # the JSON string may still carry a label or markup
            return PromptagatorOutput(query=query) if query else ("empty", "blank query")
        if self.name == "promptagator" and self.llm_cfg.api == "chat":
            line, last = chat_answer(raw)
            if not line:
                return "empty", "no query in the answer"
            if truncated and last:
                return "truncated", "hit max_new_tokens mid-query"
            return PromptagatorOutput(query=clean_line(line))
        if self.name == "promptagator":
            line = clean_line(raw.split("\n", 1)[0])
            if not line:
                return "empty", "no text before the first newline"
            if truncated and "\n" not in raw:
                return "truncated", "hit max_new_tokens mid-query"
            return PromptagatorOutput(query=line)
        if text.startswith("{"):
            try:
                out = SAPOutput.model_validate_json(text.split("\n", 1)[0])
            except ValidationError as exc:
                if truncated:
                    return "truncated", "JSON cut off at max_new_tokens"
                return "malformed", f"invalid JSON output: {_first_error(exc)}"
            try:  # same normalisation as the line format: a blank field is empty, not kept
                return SAPOutput(summary=clean_line(out.summary), query=clean_line(out.query))
            except ValidationError as exc:
                return "empty", f"summary or query is empty: {_first_error(exc)}"
        summary, _, rest = raw.lstrip().partition("\n")
        match = _QUERY_LINE.search(rest)
        if not match:
            if truncated:
                return "truncated", "hit max_new_tokens before the query line"
            return "malformed", "no '<language> query:' line after the summary"
        if truncated and raw.rstrip().endswith(match.group(1).rstrip()):
            return "truncated", "hit max_new_tokens mid-query"
        try:
            return SAPOutput(summary=clean_line(summary), query=clean_line(match.group(1)))
        except ValidationError as exc:
            return "empty", f"summary or query is empty: {_first_error(exc)}"

    def parse(self, item: PromptItem, gen: Generation, backend: str, model_id: str,
              langid: LanguageID | None = None, sample: int = 0) -> QueryRecord | Rejected:
        """Validate one sample for `item`; never raises."""
        if gen.finish_reason == "error":
            return reject(item, "generate", "llm_error", gen.error or "", gen.text, sample)
        raw = gen.text
        out = self.read_output(raw, gen.finish_reason == "length")
        if isinstance(out, tuple):
            return reject(item, "parse", out[0], out[1], raw, sample)
        query = out.query
        problem = (check_leak(query)
                   or check_length(query, self.cfg.min_query_chars, self.cfg.max_query_chars)
                   or (("copied_from_passage", "query is a long verbatim span of the passage")
                       if is_copy(query, item.passage.text) else None)
                   or self._copied_example(query, item.lang)
                   or check_query_type(query, item.attributes.get("query_type"), item.lang)
                   or check_query_length(query, item.attributes.get("length"), item.lang)
                   or check_language(langid, query, item.lang))
        if problem:
            return reject(item, "parse", problem[0], problem[1], raw, sample)
        try:
            return QueryRecord(
                id=content_id(item.prompt_id, sample, query, model_id),
                query=query, passage_id=item.passage.id, query_lang=item.lang,
                passage_lang=item.passage.lang, cross_lingual=is_cross_lingual(item.lang, item.passage.lang),
                provenance=self.provenance(item.lang, backend, model_id, list(item.examples)),
                method=self.name,
                summary=getattr(out, "summary", None), attributes=item.attributes)
        except ValidationError as exc:
            return reject(item, "parse", "invalid_record", _first_error(exc), raw, sample)

    def copy_of(self, query: str, lang: str) -> tuple[dict, str] | None:
        """(example row, detail) when `query` is a near-copy (ratio >= 90) of a few-shot
        example query of the language's pool (retired rows included), or a copy of an example
        passage: small models often repeat one. None otherwise."""
        for ex in self.copy_pool[lang]:
            if copies(query, str(ex["query"]), 90):
                return ex, f"near-copy of few-shot example {ex['query']!r}"
            if is_copy(query, str(ex["passage"])) or copies(query, str(ex["passage"]), 90):
                return ex, f"copies few-shot example passage {str(ex['passage'])[:80]!r}"
        return None

    def _copied_example(self, query: str, lang: str) -> tuple[str, str] | None:
        hit = self.copy_of(query, lang)
        return ("copied_example", hit[1]) if hit else None


def _lang_name(code: str) -> str:
    try:
        return language_name(code)
    except ValueError:
        return code


def _first_error(exc: ValidationError) -> str:
    errs = exc.errors()
    if not errs:
        return str(exc)[:200]
    e = errs[0]
    return f"{'.'.join(map(str, e['loc'])) or '<root>'}: {e['msg']}"[:300]

