"""Records that flow between stages. Every generated record carries its provenance.

IDs are content hashes (see `synthir.ids`), so a resumed run produces the same IDs.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Passage(_Record):
    """One corpus passage after ingestion (normalised field names). `lang_confidence`: lingua's
    confidence when the language was detected (None: the corpus gave it). `doc_id` /
    `position`: the document the passage was cut from and the chunk's place in it (a row that
    was not split is its own document: doc_id = id, position 0)."""

    id: str = Field(min_length=1)
    text: str = Field(min_length=1)
    title: str = ""
    lang: str = "und"
    lang_confidence: float | None = None
    doc_id: str = ""
    position: int = 0


class Provenance(_Record):
    """Where a generated record came from: enough to reproduce the call."""

    generator: str
    template: str
    template_sha256: str
    examples_sha256: str
    model: str
    backend: str
    sampling: dict[str, Any]
    seed: int
    examples: list[str] = Field(default_factory=list, description="ids of the few-shot examples in the prompt")


class Generated(_Record):
    """What an LLM call returned for one prompt (before parsing)."""

    prompt_id: str
    passage_id: str
    target_lang: str
    text: str
    finish_reason: Literal["stop", "length", "error"]
    prompt_tokens: int = 0
    completion_tokens: int = 0
    error: str | None = None
    cached: bool = False


class QueryRecord(_Record):
    """A parsed generated query for one source passage. `method`: promptagator | sap;
    `summary`: the SAP summary; `attributes`: the diversity controls the prompt asked for
    (query_type, length, difficulty, persona). `cross_lingual` is None when the passage's
    language is undetermined (`und`). Round trip: `roundtrip_rank` / `roundtrip_score` of the
    first hit, `roundtrip_match` what it was (passage: the source itself; duplicate: a member
    of its duplicate cluster; document: another chunk of its document) and `roundtrip_hit`
    its id."""

    id: str
    query: str = Field(min_length=1)
    passage_id: str
    query_lang: str
    passage_lang: str
    cross_lingual: bool | None
    provenance: Provenance
    method: str = "promptagator"
    summary: str | None = None
    attributes: dict[str, str] = Field(default_factory=dict)
    roundtrip_rank: int | None = None
    roundtrip_score: float | None = None
    roundtrip_match: Literal["passage", "duplicate", "document"] | None = None
    roundtrip_hit: str | None = None
    source_id: str | None = Field(None, description="judge relabel promote: the passage the query was "
                                  "written from, when another passage became its positive (passage_id)")
    extra_positives: list[str] = Field(default_factory=list,
                                       description="judge relabel add: other passages graded above the source")
    judge_grade: int | None = Field(None, ge=0, le=3, description="the judge's grade of the positive")
    relabel: Literal["confirmed", "promoted", "added", "unjudged"] | None = None


class DocumentRecord(_Record):
    """A generated document for a kept query. kind: graded (with `level` 3..0, SyCL), negative
    (LLM hard negative; `variant` query|positive says what the prompt saw), hyde
    (hypothetical document). `passage_id` is the query's real positive."""

    id: str
    kind: Literal["graded", "negative", "hyde"]
    text: str = Field(min_length=1)
    query_id: str
    query: str
    passage_id: str
    lang: str
    level: int | None = Field(None, ge=0, le=3)
    variant: str | None = None
    provenance: Provenance
    score: float | None = Field(None, description="embedder score of (query, text), set by verification")


class MinedNegative(_Record):
    """A corpus passage mined as a hard negative for a kept query: its retrieval rank
    (1-based) and score, and the positive's score for the same query."""

    id: str
    query_id: str
    query: str
    lang: str
    positive_id: str
    negative_id: str
    rank: int = Field(ge=1)
    score: float
    positive_score: float
    source: Literal["mined", "judged"] = Field(
        "mined", description="judged: the judge graded it irrelevant (a verified hard negative)")


class Judgment(_Record):
    """The judge's grade of one (kept query, passage): the source or a retrieved candidate, with
    its retrieval rank and score for the query; the pre-judge's score when it ran. `grade` is
    None when the LLM did not judge it (`skipped`: the pre-judge found it clearly below the
    source) or its verdict failed (`error`)."""

    id: str
    query_id: str
    query: str
    lang: str
    doc_id: str
    role: Literal["source", "candidate"]
    rank: int | None = Field(None, ge=1, description="retrieval rank for the query (None: below the depth)")
    retrieval_score: float | None = None
    prejudge_score: float | None = None
    grade: int | None = Field(None, ge=0, le=3)
    p_yes: float | None = Field(None, description="yes_no judge: P(yes)")
    skipped: bool = False
    error: str | None = None
    judge: str


class TeacherScore(_Record):
    """A teacher's relevance score of one (kept query, document): the source passage (role
    positive), a mined negative (mined) or a verified LLM negative (llm). GPL: the student
    learns the margins score(q, positive) - score(q, negative) (MarginMSE)."""

    query_id: str
    doc_id: str
    role: Literal["positive", "mined", "llm"]
    score: float
    teacher: str


class BootstrapExample(_Record):
    """A few-shot example chosen by the bootstrap pilot (Promptagator: in-domain examples): a
    pilot query kept by the round trip, with its passage. `method` is the index of its
    `generation.queries[]` entry."""

    id: str
    method: int
    lang: str
    passage_id: str
    passage: str
    query: str
    roundtrip_rank: int
    roundtrip_score: float
    type: str | None = Field(None, description="the pilot query's query type, when query_types is set")


class PoolExample(_Record):
    """A few-shot example of the main round's pool for one method and language (stage `probe`):
    from the method's pool file (`source` examples_dir / examples_file) or its bootstrap pilot
    (`source` bootstrap, with the pilot pair's passage id and round-trip rank and score).
    `copies`: probe completions that copied it; `retired`: the copy probe saw the model copy
    it, so it is never shown again, and copies of it are still rejected."""

    id: str
    method: int
    lang: str
    passage: str
    query: str
    source: str
    type: str | None = None
    passage_id: str | None = None
    roundtrip_rank: int | None = None
    roundtrip_score: float | None = None
    copies: int = Field(0, ge=0)
    retired: bool = False


class Rejected(_Record):
    """An item dropped by a stage, with the reason. Published in the `rejected` config."""

    id: str
    stage: Literal["ingest", "sample", "generate", "parse", "filter", "roundtrip", "judge", "documents",
                   "verify", "mine"]
    reason: str
    detail: str = ""
    item_id: str = ""
    passage_id: str = ""
    lang: str = ""
    raw: str = ""
    method: str = ""
