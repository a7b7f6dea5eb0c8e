"""Shared fixtures. Heavy ones (the real LLM, the wiki corpus) are session-scoped.

The caches (assembled GGUF, tokenizer, responses, corpus embeddings) go to a per-session
temp dir, so every test session really calls the model.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# Nothing may come from the hub: tests must pass on an air-gapped machine.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"


@pytest.fixture(scope="session", autouse=True)
def isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("synthir-cache")
    old = os.environ.get("SYNTHIR_CACHE_DIR")
    os.environ["SYNTHIR_CACHE_DIR"] = str(path)
    yield path
    # Prefect stops its temporary server at interpreter exit and logs to a stream pytest has
    # already closed; don't print a traceback for that log line.
    import logging
    logging.raiseExceptions = False
    if old is None:
        os.environ.pop("SYNTHIR_CACHE_DIR", None)
    else:
        os.environ["SYNTHIR_CACHE_DIR"] = old


@pytest.fixture(scope="session")
def wiki_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """200 real Wikipedia summaries (100 en + 100 fr) from the bundled package, as JSONL."""
    from synthir.wiki import export_wiki_corpus

    out = tmp_path_factory.mktemp("wiki") / "corpus.jsonl"
    export_wiki_corpus(["en", "fr"], out, max_per_lang=100, seed=1)
    return out


@pytest.fixture(scope="session")
def real_llm():
    """The embedded Gemma 3 270M via transformers, loaded once per session (~60 s)."""
    from data_schemas.config import LLMConfig
    from synthir.llm.registry import get_llm

    return get_llm(LLMConfig(batch_size=8, max_new_tokens=32))


@pytest.fixture(scope="session")
def use_embedder():
    from data_schemas.config import EmbedderConfig
    from synthir.embed.registry import get_embedder

    return get_embedder(EmbedderConfig())


# The demo samples 8 queries per passage at temperature 0.8; tests of plumbing (resume, locks,
# retries, cache healing) count calls, so they ask for one greedy query per prompt.
ONE_GREEDY_QUERY = {"llm.temperature": 0, "generation.queries[0].num_queries": 1}


def demo_config(corpus: Path, out: Path, **sets: object) -> "RunConfig":  # noqa: F821
    """configs/demo.yaml pointed at `corpus` and `out`, with dotted overrides."""
    from synthir.config import load_config

    items = [f"corpus.path={corpus}"] + [f"{k}={v}" for k, v in sets.items()]
    return load_config(REPO / "configs" / "demo.yaml", items, out)
