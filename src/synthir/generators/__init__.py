"""Generators: a prompt template + a pure parser each. `query_generators(cfg)` and
`document_generators(cfg)` build the ones a run config asks for (templates checked at load)."""

from __future__ import annotations

from data_schemas.config import QueryMethodConfig, RunConfig
from synthir.generators.documents import DocumentGenerator
from synthir.generators.queries import QueryGenerator
from synthir.langid import LanguageID
from synthir.prompting import PromptLibrary


def query_generator(cfg: RunConfig, method: QueryMethodConfig, library: PromptLibrary,
                    pool: dict[str, list[dict]] | None = None) -> QueryGenerator:
    """The QueryGenerator for one query method under `cfg`: its generation and llm settings,
    languages, sample seed and prompt cut (`sample.max_chars`). `pool` {lang: example rows}
    replaces the method's few-shot pool (bootstrap and probe stages)."""
    return QueryGenerator(method, cfg.generation, cfg.llm, cfg.languages, cfg.sample.seed, library,
                          pool=pool, passage_chars=cfg.sample.max_chars)


def query_generators(cfg: RunConfig, library: PromptLibrary | None = None,
                     pools: dict[int, dict[str, list[dict]]] | None = None) -> list[QueryGenerator]:
    """One QueryGenerator per `generation.queries[]` entry; `pools` {entry index: {lang:
    example rows}} replaces an entry's few-shot pool (the bootstrap stage's examples)."""
    lib = library or PromptLibrary(cfg.generation.prompts_dir)
    return [query_generator(cfg, m, lib, (pools or {}).get(i))
            for i, m in enumerate(cfg.generation.queries)]


def document_generators(cfg: RunConfig, library: PromptLibrary | None = None) -> list[DocumentGenerator]:
    """One DocumentGenerator per `generation.documents[]` entry."""
    lib = library or PromptLibrary(cfg.generation.prompts_dir)
    return [DocumentGenerator(m, cfg.generation, cfg.llm, cfg.languages, cfg.sample.seed, lib,
                              passage_chars=cfg.sample.max_chars)
            for m in cfg.generation.documents]


def language_checker(cfg: RunConfig) -> LanguageID | None:
    """The language-ID check for generated text, unless `generation.language_check` is off."""
    return LanguageID(cfg.languages) if cfg.generation.language_check else None


def prompt_files(cfg: RunConfig) -> dict[str, str]:
    """sha256 of every template (with its includes) and example file the run reads."""
    from synthir.stages.judge import judge_files

    shas: dict[str, str] = {}
    for g in [*query_generators(cfg), *document_generators(cfg)]:
        shas.update(g.files())
    shas.update(judge_files(cfg))
    return shas
