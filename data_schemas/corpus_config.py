"""The corpus and sampling part of the run config: where the corpus is and how it becomes
passages (fields, documents -> passages, language, duplicate clusters), and how source passages
are sampled. Re-exported by `data_schemas.config`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from data_schemas.languages import language_name, normalize_language


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


def normalize_codes(v: list[str] | None, check: bool = True) -> list[str] | None:
    """Normalised language codes (`EN`, `pt-BR` -> `en`, `pt`); known ones only when `check`;
    no duplicates after normalising."""
    if v is None:
        return None
    out = [normalize_language(c) for c in v]
    if check:
        for orig, code in zip(v, out):
            try:
                language_name(code)
            except ValueError as exc:
                raise ValueError(str(exc).replace(repr(code), repr(orig), 1)) from None
    if len(set(out)) != len(out):
        raise ValueError(f"duplicate language codes {v} (after normalising: {out})")
    return out


class CorpusFields(_Strict):
    """Column / key names in the corpus file. `id: null` derives ids from the text hash."""

    id: str | None = "id"
    text: str = "text"
    title: str | None = "title"
    lang: str | None = "lang"


class ChunkConfig(_Strict):
    """Documents -> passages (synthir.io.chunking): each document is split along its structure
    (Markdown / HTML headings: the heading path becomes the passage title), then each section
    at paragraph, else sentence boundaries into chunks of at most `max_tokens` tokens of the
    embedder (`embedder.*`; the title counts), consecutive chunks sharing up to `overlap`
    tokens."""

    max_tokens: int = Field(256, ge=16, description="passage length cap in the embedder's tokens")
    overlap: int = Field(0, ge=0, description="tokens repeated from the previous chunk")
    rows: bool = Field(False, description="rows of a jsonl/parquet/csv/hf corpus are documents "
                       "too: a row longer than max_tokens is split into passages")

    @model_validator(mode="after")
    def _overlap(self) -> "ChunkConfig":
        if self.overlap >= self.max_tokens:
            raise ValueError("overlap must be < max_tokens")
        return self


class DedupConfig(_Strict):
    """Duplicate clusters at ingest (synthir.dedup): passages with the same normalised text
    (exact) or a MinHash-estimated Jaccard similarity of word 3-gram shingles >= `threshold`
    (near, datasketch LSH) share a cluster. A cluster member counts as its source in the round
    trip, is never mined as a negative for it, is sampled once, and stays in its split."""

    enabled: bool = True
    near: bool = Field(True, description="near-duplicates too (false: exact duplicates only)")
    threshold: float = Field(0.8, ge=0.5, le=0.95, description="Jaccard similarity of shingles "
                             "(above 0.95 the LSH has too few bands)")
    num_perm: int = Field(64, ge=16, le=512, description="MinHash permutations")


class CorpusConfig(_Strict):
    """Where the corpus is and how to read it (streamed, never loaded whole). `path`: a file
    (jsonl / parquet / csv), a saved HF dataset dir, or a folder / glob of documents (.md,
    .html, .txt: format `documents`, split into passages, see ChunkConfig)."""

    path: Path
    format: Literal["auto", "jsonl", "parquet", "csv", "hf", "documents"] = "auto"
    fields: CorpusFields = CorpusFields()
    default_lang: str | None = Field(
        None, description="language of rows without a lang value; null: detect it (lingua)")
    detect_languages: list[str] | None = Field(
        None, description="languages language detection chooses from (null: every language "
        "synthir can prompt in)")
    min_chars: int = Field(20, ge=1, description="shorter passages are skipped (too_short)")
    max_chars: int = Field(20_000, ge=1, description="longer passages are skipped (too_long)")
    batch_rows: int = Field(4096, ge=1, description="rows per chunk while streaming")
    chunk: ChunkConfig = ChunkConfig()
    dedup: DedupConfig = DedupConfig()

    @field_validator("default_lang")
    @classmethod
    def _default_lang(cls, v: str | None) -> str | None:
        return None if v is None else normalize_language(v)

    @field_validator("detect_languages")
    @classmethod
    def _detect_languages(cls, v: list[str] | None) -> list[str] | None:
        if v is not None and not v:
            raise ValueError("give at least one language, or null for all")
        return normalize_codes(v)

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
    max_chars: int = Field(2_000, ge=1, description="the most characters of a passage a prompt shows")
    too_long: Literal["head", "skip"] = Field(
        "head", description="a passage longer than max_chars: `head` samples it and every prompt shows "
        "its first max_chars characters (cut at a word); `skip` never samples it (too_long_for_sample)")

    @field_validator("languages")
    @classmethod
    def _languages(cls, v: list[str] | None) -> list[str] | None:
        return normalize_codes(v, check=False)
