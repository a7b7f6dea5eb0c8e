"""Document generators, one per `generation.documents[]` entry, run for every query the round
trip kept (cheap filters first: no LLM call is spent on a dropped query).

- graded (SyCL, "Synthetic Contrastive Learning with graded relevance"): one document per
  requested level; 3 = answers the query fully, 2 = partially, 1 = same topic but no answer,
  0 = unrelated. The level definitions live in the template.
- negative ("Don't Retrieve, Generate"): a hard negative that looks relevant but does not
  answer; `variant: query` sees the query only, `variant: positive` sees query + positive.
- hyde (Gao et al., 2022, HyDE): a hypothetical document answering the query.

Each prompt asks for one single-paragraph document (the completion's first line). Output per
prompt: a DocumentRecord, or a Rejected(stage="documents") with reason llm_error, empty,
truncated, template_leak, too_short, too_long, echoes_query, copies_positive (a near-copy of
the real positive is not a new document, at any level), wrong_language or invalid_record. Embedding-margin verification is a separate filter stage.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from data_schemas.config import DocumentMethodConfig, GenerationConfig, LLMConfig
from data_schemas.languages import language_name
from data_schemas.records import DocumentRecord, Passage, QueryRecord, Rejected
from synthir.errors import ConfigError
from synthir.generators.common import (OBJECTS, PromptItem, TemplateGenerator, check_language,
                                       check_leak, check_length,
                                       clean_line, copies, reject)
from synthir.ids import content_id
from synthir.langid import LanguageID
from synthir.llm.base import Generation, SamplingParams
from synthir.prompting import PromptLibrary
from synthir.sampling import prompt_passage

PROVIDED = frozenset({"examples", "query", "passage", "language", "language_name", "level"})
TEMPLATES = {"graded": "documents/graded.j2", "hyde": "documents/hyde.j2",
             ("negative", "query"): "documents/negative_from_query.j2",
             ("negative", "positive"): "documents/negative_from_positive.j2"}
EXAMPLE_KEYS = ("query", "graded", "hard_negative")


class DocumentOutput(BaseModel):
    """A generated document: one paragraph of text."""

    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1)


class DocumentGenerator(TemplateGenerator):
    """build_prompts(queries, passages) -> PromptItems; parse(item, gen, ...) ->
    DocumentRecord | Rejected. Inputs: one DocumentMethodConfig, the shared configs, the run
    languages and seed. Examples: `{examples_dir}/{lang}.jsonl` rows with query, graded
    {"3".."0"} and hard_negative."""

    def __init__(self, method: DocumentMethodConfig, gen: GenerationConfig, llm: LLMConfig,
                 languages: list[str], seed: int, library: PromptLibrary | None = None,
                 passage_chars: int | None = None) -> None:
        self.m = method
        self.passage_chars = passage_chars  # prompts show a longer passage's head (sample.max_chars)
        self.cfg = gen
        self.llm_cfg = llm
        self.seed = seed
        self.name = method.method if method.method != "negative" else f"negative_{method.variant}"
        self.lib = library or PromptLibrary(gen.prompts_dir)
        key = (method.method, method.variant) if method.method == "negative" else method.method
        self.template = self.lib.template(method.template or TEMPLATES[key], PROVIDED, OBJECTS)
        self.examples: dict[str, list[dict]] = {}
        self.examples_sha: dict[str, str] = {}
        for lang in languages:
            rows, sha = self.lib.examples(f"{method.examples_dir}/{lang}.jsonl")
            bad = [i for i, r in enumerate(rows, 1)
                   if not isinstance(r.get("query"), str) or not isinstance(r.get("hard_negative"), str)
                   or not isinstance(r.get("graded"), dict)
                   or not all(isinstance(r["graded"].get(str(lv)), str) for lv in range(4))]
            if bad:
                raise ConfigError(f"{method.examples_dir}/{lang}.jsonl: rows {bad} need query, "
                                  "hard_negative and graded {\"3\",\"2\",\"1\",\"0\"} strings")
            self.examples[lang] = rows[: method.num_examples]
            self.examples_sha[lang] = sha

    def files(self) -> dict[str, str]:
        """sha256 of the template and every example file this generator reads."""
        shas = {self.template.name: self.template.sha256}
        shas.update({f"{self.m.examples_dir}/{lang}.jsonl": s for lang, s in self.examples_sha.items()})
        return shas

    def sampling_params(self) -> SamplingParams:
        """One paragraph: stop at the first newline."""
        return SamplingParams(temperature=self.llm_cfg.temperature, top_p=self.llm_cfg.top_p,
                              max_tokens=self.m.max_new_tokens, stop=("\n",),
                              seed=self.seed if self.llm_cfg.temperature > 0 else None)

    def build_prompts(self, queries: list[QueryRecord], passages: dict[str, Passage]) -> list[PromptItem]:
        """One prompt per kept query (per level for graded), in query order."""
        items = []
        levels: list[int | None] = list(self.m.levels) if self.m.method == "graded" else [None]
        for q in queries:
            passage = passages[q.passage_id]
            for level in levels:
                text = self.template.render(
                    examples=self.examples[q.query_lang], query=q.query,
                    passage=prompt_passage(passage, self.passage_chars),
                    language=q.query_lang, language_name=language_name(q.query_lang), level=level)
                pid = content_id(self.name, q.id, level, self.template.sha256,
                                 self.examples_sha[q.query_lang])
                items.append(PromptItem(prompt_id=pid, method=self.name, lang=q.query_lang,
                                        text=text, passage=passage, query=q, level=level))
        return items

    def parse(self, item: PromptItem, gen: Generation, backend: str, model_id: str,
              langid: LanguageID | None = None, sample: int = 0) -> DocumentRecord | Rejected:
        """Validate one completion for `item`; never raises."""
        stage = "documents"
        if gen.finish_reason == "error":
            return reject(item, stage, "llm_error", gen.error or "", gen.text, sample)
        raw = gen.text
        first = raw.lstrip().split("\n", 1)[0]
        if gen.finish_reason == "length" and "\n" not in raw.lstrip():
            return reject(item, stage, "truncated",
                          f"hit max_new_tokens={self.m.max_new_tokens} mid-document", raw, sample)
        try:
            out = DocumentOutput(text=clean_line(first))
        except ValidationError:
            return reject(item, stage, "empty", "no text before the first newline", raw, sample)
        text, q = out.text, item.query
        assert q is not None
        problem = check_leak(text) or check_length(text, self.m.min_chars, self.m.max_chars)
        if not problem and copies(text, q.query, 90):
            problem = ("echoes_query", "the document repeats the query")
        if not problem and copies(text, item.passage.text):
            problem = ("copies_positive", "near-copy of the real positive passage")
        problem = problem or check_language(langid, text, item.lang)
        if problem:
            return reject(item, stage, problem[0], problem[1], raw, sample)
        kind = self.m.method
        try:
            return DocumentRecord(
                id=content_id(item.prompt_id, sample, text, model_id), kind=kind, text=text,
                query_id=q.id, query=q.query, passage_id=q.passage_id, lang=item.lang,
                level=item.level, variant=self.m.variant if kind == "negative" else None,
                provenance=self.provenance(item.lang, backend, model_id))
        except ValidationError as exc:
            return reject(item, stage, "invalid_record", str(exc)[:300], raw, sample)
