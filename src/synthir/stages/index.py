"""Stage `index` (whole run): embed the whole normalised corpus (cached by corpus fingerprint
+ embedder, so a corpus is embedded once per embedder whatever run uses it) and build the
FAISS index the round trip and mining search (`load_index`).

Reads: corpus. Writes: no run file (the embeddings live in the cache; the marker records
where). Stats: embeddings, rows, embedder, index (which FAISS index, with which parameters),
embed_seconds, index_build_seconds.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from data_schemas.config import RunConfig
from synthir.cachedir import cache_root
from synthir.embed.registry import get_embedder
from synthir.index import CorpusIndex, embed_corpus
from synthir.rundir import RunDir
from synthir.stages.base import Context, Stage, read_marker
from synthir.stages.common import bar

_INDEXES: dict[str, CorpusIndex] = {}


def _build(cfg: RunConfig, run: RunDir, embeddings: str) -> CorpusIndex:
    ic = cfg.index
    key = f"{run.corpus}:{embeddings}:{ic.model_dump_json()}"
    if key not in _INDEXES:
        _INDEXES[key] = CorpusIndex.build(
            Path(embeddings), run.store.ids(), kind=ic.type, nlist=ic.nlist, nprobe=ic.nprobe,
            m=ic.hnsw_m, ef_construction=ic.ef_construction, ef_search=ic.ef_search,
            train_rows=ic.train_rows, seed=cfg.sample.seed)
    return _INDEXES[key]


def load_index(cfg: RunConfig, run: RunDir) -> CorpusIndex:
    """The corpus index of this run (built once per process from the cached embeddings)."""
    meta = read_marker(run.marker(INDEX.name))
    if meta is None:
        raise RuntimeError("the index stage has not run")
    return _build(cfg, run, meta["embeddings"])


def index_run(ctx: Context) -> dict[str, Any]:
    cfg, run = ctx.cfg, ctx.run
    t0 = time.time()
    fingerprint = read_marker(run.marker("ingest"))["fingerprint"]
    embedder = get_embedder(cfg.embedder)
    rows = run.store.num_rows
    with bar(rows, "embed corpus", "passage", ctx.progress) as b:
        emb = embed_corpus(run.corpus, embedder, cache_root() / "embeddings", fingerprint, progress=b.update)
    t1 = time.time()
    index = _build(cfg, run, str(emb))
    return {"embeddings": str(emb), "rows": rows, "embedder": embedder.name, "index": index.description,
            "embed_seconds": round(t1 - t0, 3), "index_build_seconds": round(time.time() - t1, 3)}


def _funnel(f: Any, stats: dict[str, Any]) -> None:
    f.index = {"embedder": stats.get("embedder"), "index": stats.get("index"), "rows": stats.get("rows")}


INDEX = Stage("index", "run", reads=("corpus",), writes=(), run=index_run, funnel=_funnel)
