"""Sections -> passages of at most `corpus.chunk.max_tokens` tokens of the embedder.

Library: `semantic-text-splitter` (Rust, maintained, MIT). It splits at the largest semantic
level that fits the budget (blank-line paragraphs, then line breaks, then Unicode sentence
boundaries, then words), merges neighbours up to the budget, counts size with any callback
(here the embedder's tokenizer, synthir.embed.tokens) and supports token overlap. So a
passage never ends mid-sentence unless one sentence alone is longer than the budget. It was
chosen over langchain-text-splitters (pulls langchain-core; its recursive splitter cuts on
characters unless given a tokenizer) and over a hand-written splitter (sentence boundaries in
every script are Unicode's job).

Each section's blocks are split separately, so a passage never straddles two sections; its
title is the section's heading path ("Guide > Install > On Debian"), which the index embeds
in front of the text ("title. text"): the budget for the text is `max_tokens` minus the
title's tokens (at least half of `max_tokens`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from data_schemas.config import ChunkConfig
from synthir.embed.tokens import TokenCounter
from synthir.io.documents import Section

TITLE_MAX_CHARS = 300
SEPARATOR = " > "
BUDGET_STEP = 8


@dataclass(frozen=True)
class Chunk:
    """One passage cut from a document: heading path as title, text, place in the document."""

    title: str
    text: str
    position: int


class Chunker:
    """`chunks(sections)` -> Chunks in document order. Inputs: the chunk config and the
    embedder's TokenCounter (its Rust tokenizer when it has one, else its count callback)."""

    def __init__(self, cfg: ChunkConfig, tokens: TokenCounter) -> None:
        self.cfg, self.tokens, self.count = cfg, tokens, tokens.count
        self._splitters: dict[int, object] = {}

    def _splitter(self, budget: int):  # -> semantic_text_splitter.TextSplitter
        if budget not in self._splitters:
            from semantic_text_splitter import TextSplitter

            if self.tokens.hf is not None:
                cap = max(budget - self.tokens.reserve(budget), 8)
                self._splitters[budget] = TextSplitter.from_huggingface_tokenizer(
                    self.tokens.hf, cap, overlap=min(self.cfg.overlap, cap - 1), trim=True)
            else:
                self._splitters[budget] = TextSplitter.from_callback(
                    self.count, budget, overlap=min(self.cfg.overlap, budget - 1), trim=True)
        return self._splitters[budget]

    def title_of(self, section: Section) -> str:
        return SEPARATOR.join(section.path)[:TITLE_MAX_CHARS]

    def budget(self, title: str) -> int:
        """Tokens left for the text once the title (embedded as "title. ") is counted, rounded
        down to a multiple of BUDGET_STEP (one splitter per budget: building one copies the
        tokenizer)."""
        m = self.cfg.max_tokens
        if not title:
            return m
        left = max(m - self.count(f"{title}. "), m // 2)
        return max(left - left % BUDGET_STEP, min(BUDGET_STEP, left))

    def fits(self, title: str, text: str) -> bool:
        """Whether `title. text` is within max_tokens (a row that needs no split)."""
        return self.count(f"{title}. {text}" if title else text) <= self.cfg.max_tokens

    def chunks(self, sections: list[Section]) -> Iterator[Chunk]:
        position = 0
        for sec in sections:
            title = self.title_of(sec)
            text = "\n\n".join(sec.blocks)
            for piece in self._splitter(self.budget(title)).chunks(text):
                if piece.strip():
                    yield Chunk(title, piece.strip(), position)
                    position += 1
