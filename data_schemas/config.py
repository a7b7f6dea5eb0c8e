"""The run configuration: one YAML file validated into `RunConfig`.

Unknown keys and bad values fail with a message naming the dotted key (see
`synthir.config.load_config`). Key names are part of the public interface: schedulers and
scripts set them with `--set dotted.key=value`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from data_schemas.languages import language_name


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class CorpusFields(_Strict):
    """Column / key names in the corpus file. `id: null` derives ids from the text hash."""

    id: str | None = "id"
    text: str = "text"
    title: str | None = "title"
    lang: str | None = "lang"


class CorpusConfig(_Strict):
    """Where the corpus is and how to read it (streamed, never loaded whole)."""

    path: Path
    format: Literal["auto", "jsonl", "parquet", "csv", "hf"] = "auto"
    fields: CorpusFields = CorpusFields()
    default_lang: str = Field("und", description="language of rows without a lang field")
    min_chars: int = Field(20, ge=1, description="shorter passages are skipped (too_short)")
    max_chars: int = Field(20_000, ge=1, description="longer passages are skipped (too_long)")
    batch_rows: int = Field(4096, ge=1, description="rows per chunk while streaming")

    @model_validator(mode="after")
    def _bounds(self) -> "CorpusConfig":
        if self.min_chars > self.max_chars:
            raise ValueError("min_chars must be <= max_chars")
        return self


class SampleConfig(_Strict):
    """Seeded sampling of source passages, stratified by passage language."""

    n: int = Field(40, ge=1)
    seed: int = 0
    languages: list[str] | None = Field(
        None, description="passage languages to sample from (null: every language seen)"
    )
    min_chars: int = Field(80, ge=1)
    max_chars: int = Field(2_000, ge=1)


class LLMConfig(_Strict):
    """Which LLM generates, and how. `model: embedded` is the Gemma 3 270M GGUF package."""

    backend: str = "transformers"
    model: str = "embedded"
    gguf_file: str | None = None
    dtype: Literal["float32", "bfloat16", "float16", "auto"] = "float32"
    threads: int | None = Field(None, ge=1, description="torch threads (default: CPU count)")
    batch_size: int = Field(8, ge=1)
    max_new_tokens: int = Field(40, ge=1)
    temperature: float = Field(0.0, ge=0.0)
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    cache: bool = Field(True, description="reuse responses keyed on (prompt, model, params)")


class GenerationConfig(_Strict):
    """Query generation: a few-shot completion prompt from `prompts/`."""

    prompts_dir: Path | None = Field(None, description="default: SYNTHIR_PROMPTS_DIR or the repo prompts/")
    template: str = "query/promptagator.j2"
    examples_dir: str = "query/examples"
    num_examples: int = Field(3, ge=0, le=8)
    task: str = Field(
        "Write a short search query that this passage answers.",
        description="task description placed at the top of the prompt",
    )
    max_query_chars: int = Field(200, ge=8)
    min_query_chars: int = Field(3, ge=1)


class EmbedderConfig(_Strict):
    """Embedder for the corpus index and the round trip."""

    name: str = "use-multilingual"
    batch_size: int = Field(64, ge=1)


class RoundTripConfig(_Strict):
    """Promptagator round trip: keep a query if its source passage ranks in the top-K."""

    top_k: int = Field(1, ge=1)


class OutputConfig(_Strict):
    """Where the dataset (and the run's work files, under `.synthir/`) are written."""

    dir: Path = Path("out/run")
    corpus: Literal["full", "referenced"] = "full"
    license: str = "other"
    pretty_name: str | None = None


class RunConfig(_Strict):
    """The whole run. `languages` are the target *query* languages."""

    name: str = "synthir-run"
    corpus: CorpusConfig
    sample: SampleConfig = SampleConfig()
    languages: list[str] = Field(default_factory=lambda: ["en"], min_length=1)
    llm: LLMConfig = LLMConfig()
    generation: GenerationConfig = GenerationConfig()
    embedder: EmbedderConfig = EmbedderConfig()
    roundtrip: RoundTripConfig = RoundTripConfig()
    output: OutputConfig = OutputConfig()
    shard_size: int = Field(16, ge=1, description="passages per shard (unit of work and resume)")

    @field_validator("languages")
    @classmethod
    def _known_languages(cls, v: list[str]) -> list[str]:
        for code in v:
            language_name(code)
        if len(set(v)) != len(v):
            raise ValueError("duplicate language codes")
        return v
