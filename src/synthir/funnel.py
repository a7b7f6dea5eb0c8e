"""The per-stage funnel of a run, computed from the files the stages wrote (so the numbers
always equal the published row counts)."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from typing import Any

from data_schemas.config import RunConfig
from synthir.io.files import read_jsonl
from synthir.runpaths import RunPaths


def _load(path) -> list[dict[str, Any]]:
    return list(read_jsonl(path)) if path.exists() else []


def compute_funnel(cfg: RunConfig, paths: RunPaths) -> dict[str, Any]:
    """Return {"ingest": …, "sample": …, "stages": [...], "by_language": {lang: {stage: n}},
    "dropped": {stage: {reason: n}}, "tokens": …, "models": [{backend, model}], "seconds": …}.

    Query stages count per target query language: prompts -> generated (LLM answered)
    -> parsed -> roundtrip_kept. `sampled` counts passages per passage language.
    """
    ingest = json.loads((paths.ingest / "stats.json").read_text(encoding="utf-8"))
    by_lang: dict[str, Counter] = defaultdict(Counter)
    dropped: dict[str, Counter] = defaultdict(Counter)
    for r in _load(paths.ingest / "rejected.jsonl"):
        dropped["ingest"][r["reason"]] += 1
    tokens = Counter()
    models: set[tuple[str, str]] = set()
    seconds = Counter({"ingest_and_sample": ingest.get("seconds", 0.0)})
    for shard in paths.shard_dirs():
        n_passages = sum(1 for _ in read_jsonl(shard / "passages.jsonl"))
        for lang in cfg.languages:
            by_lang[lang]["prompts"] += n_passages
        gen_rej = _load(shard / "generate_rejected.jsonl")
        for r in gen_rej:
            dropped[r["stage"]][r["reason"]] += 1
            if r["stage"] == "generate":
                by_lang[r["lang"]]["llm_error"] += 1
        for r in _load(shard / "queries.jsonl"):
            by_lang[r["query_lang"]]["parsed"] += 1
        for r in _load(shard / "kept.jsonl"):
            by_lang[r["query_lang"]]["roundtrip_kept"] += 1
        for r in _load(shard / "roundtrip_rejected.jsonl"):
            dropped["roundtrip"][r["reason"]] += 1
        for name in ("generate", "roundtrip"):
            marker = shard / f"{name}.done.json"
            if marker.exists():
                st = json.loads(marker.read_text(encoding="utf-8"))
                seconds[name] += st.get("seconds", 0.0)
                if name == "generate":
                    tokens.update(st["tokens"])
                    models.add((st["backend"], st["model"]))
    if paths.index_meta.exists():
        seconds["index_corpus"] += json.loads(paths.index_meta.read_text(encoding="utf-8"))["seconds"]
    languages: dict[str, dict[str, int]] = {}
    for lang in cfg.languages:
        c = by_lang[lang]
        languages[lang] = {"prompts": c["prompts"], "generated": c["prompts"] - c["llm_error"],
                           "parsed": c["parsed"], "roundtrip_kept": c["roundtrip_kept"]}
    total = {k: sum(v[k] for v in languages.values())
             for k in ("prompts", "generated", "parsed", "roundtrip_kept")}
    return {
        "ingest": ingest["corpus"],
        "sample": ingest["sample"],
        "queries": total,
        "by_language": languages,
        "dropped": {stage: dict(c) for stage, c in dropped.items()},
        "tokens": dict(tokens),
        "models": [{"backend": b, "model": m} for b, m in sorted(models)],
        "seconds": {k: round(v, 2) for k, v in seconds.items()},
    }
