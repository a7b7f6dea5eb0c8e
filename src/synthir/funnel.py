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


def _rank_key(k: str) -> int:
    return int(k) if k.isdigit() else 10**9


def _add_requested(target: dict[str, Counter], requested: dict[str, dict[str, int]], by: str) -> None:
    for method, langs in requested.items():
        for lang, n in langs.items():
            target[lang if by == "lang" else method]["prompts"] += n


def compute_funnel(cfg: RunConfig, paths: RunPaths) -> dict[str, Any]:
    """Return {"ingest", "sample", "queries", "by_language", "by_method", "documents",
    "dropped": {stage: {reason: n}}, "tokens", "tokens_by_stage": {stage: tokens}, "models": [{backend, model}], "seconds"}.

    Query stages count requested query samples (prompts x num_queries) per target language
    and per method: prompts -> generated (LLM answered) -> parsed -> filtered (cheap filters)
    -> roundtrip_kept. `source_rank`: where the round trip found each query's source passage;
    `language_id`: per language, how many queries lingua checked and how many it agreed on.
    `documents` counts per document method: prompts -> generated -> parsed.
    `sampled` counts passages per passage language. `contamination`: queries / documents checked
    against the eval sets and dropped as near-duplicates (empty when the guard is off).
    """
    ingest = json.loads((paths.ingest / "stats.json").read_text(encoding="utf-8"))
    by_lang: dict[str, Counter] = defaultdict(Counter)
    by_method: dict[str, Counter] = defaultdict(Counter)
    docs: dict[str, Counter] = defaultdict(Counter)
    dropped: dict[str, Counter] = defaultdict(Counter)
    for r in _load(paths.ingest / "rejected.jsonl"):
        dropped["ingest"][r["reason"]] += 1
    for r in _load(paths.ingest / "byo_rejected.jsonl"):  # bring-your-own pairs
        dropped["filter"][r["reason"]] += 1
    tokens = Counter()
    contamination: Counter = Counter()
    stage_tokens: dict[str, Counter] = defaultdict(Counter)
    ranks: Counter = Counter()
    mining: Counter = Counter()
    models: set[tuple[str, str]] = set()
    seconds = Counter({"ingest_and_sample": ingest.get("seconds", 0.0)})
    for shard in paths.shard_dirs():
        for r in _load(shard / "generate_rejected.jsonl"):
            dropped[r["stage"]][r["reason"]] += 1
            if r["stage"] == "generate":
                by_lang[r["lang"]]["llm_error"] += 1
                by_method[r.get("method", "")]["llm_error"] += 1
        for r in _load(shard / "queries.jsonl"):
            by_lang[r["query_lang"]]["parsed"] += 1
            by_method[r.get("method", "promptagator")]["parsed"] += 1
        for r in _load(shard / "filtered.jsonl"):
            by_lang[r["query_lang"]]["filtered"] += 1
            by_method[r.get("method", "promptagator")]["filtered"] += 1
        for r in _load(shard / "filter_rejected.jsonl"):
            dropped["filter"][r["reason"]] += 1
        for r in _load(shard / "kept.jsonl"):
            by_lang[r["query_lang"]]["roundtrip_kept"] += 1
            by_method[r.get("method", "promptagator")]["roundtrip_kept"] += 1
        for r in _load(shard / "roundtrip_rejected.jsonl"):
            dropped["roundtrip"][r["reason"]] += 1
        for r in _load(shard / "documents_rejected.jsonl"):
            dropped["documents"][r["reason"]] += 1
            if r["reason"] == "llm_error":
                docs[r.get("method", "")]["llm_error"] += 1
        for r in _load(shard / "documents.jsonl"):
            docs[r["provenance"]["generator"]]["parsed"] += 1
        for r in _load(shard / "verified_documents.jsonl"):
            docs[r["provenance"]["generator"]]["verified"] += 1
        for r in _load(shard / "verify_rejected.jsonl"):
            dropped["verify"][r["reason"]] += 1
        verify_marker = shard / "verify.done.json"
        if verify_marker.exists():
            vst = json.loads(verify_marker.read_text(encoding="utf-8"))
            seconds["verify"] += vst.get("seconds", 0.0)
            guard = vst.get("contamination") or {}
            contamination["documents_checked"] += guard.get("checked", 0)
            contamination["documents_dropped"] += guard.get("dropped", 0)
            contamination["eval_documents"] = max(contamination["eval_documents"], guard.get("eval_documents", 0))
        mine_marker = shard / "mine.done.json"
        if mine_marker.exists():
            st = json.loads(mine_marker.read_text(encoding="utf-8"))
            mining.update({k: v for k, v in st.items() if isinstance(v, int)})
            seconds["mine"] += st.get("seconds", 0.0)
        for name in ("generate", "roundtrip", "documents"):
            marker = shard / f"{name}.done.json"
            if not marker.exists():
                continue
            st = json.loads(marker.read_text(encoding="utf-8"))
            seconds[name] += st.get("seconds", 0.0)
            if name in ("generate", "documents"):
                tokens.update(st["tokens"])
                stage_tokens[name].update(st["tokens"])
                if st.get("model"):
                    models.add((st["backend"], st["model"]))
            if name == "roundtrip":
                ranks.update(st.get("source_rank", {}))
            if name == "generate":
                _add_requested(by_lang, st["requested"], "lang")
                _add_requested(by_method, st["requested"], "method")
            if name == "documents":
                _add_requested(docs, st["requested"], "method")
    index_meta: dict[str, Any] = {}
    if paths.index_meta.exists():
        index_meta = json.loads(paths.index_meta.read_text(encoding="utf-8"))
        seconds["index_corpus"] += index_meta["seconds"] + index_meta.get("index_build_seconds", 0.0)

    def table(counts: dict[str, Counter], keys: list[str], kept: bool) -> dict[str, dict[str, int]]:
        out = {}
        for k in keys:
            c = counts[k]
            out[k] = {"prompts": c["prompts"], "generated": c["prompts"] - c["llm_error"],
                      "parsed": c["parsed"]}
            if not kept:
                out[k]["verified"] = c["verified"]
            if kept:
                out[k]["filtered"] = c["filtered"]
                out[k]["roundtrip_kept"] = c["roundtrip_kept"]
        return out

    languages = table(by_lang, list(cfg.languages), True)
    methods = table(by_method, sorted(k for k in by_method if k), True)
    total = {k: sum(v[k] for v in languages.values())
             for k in ("prompts", "generated", "parsed", "filtered", "roundtrip_kept")}
    filter_meta = paths.work / "filter.done.json"
    filter_stats = json.loads(filter_meta.read_text(encoding="utf-8")) if filter_meta.exists() else {}
    lang_id = filter_stats.get("language", {})
    guard = filter_stats.get("contamination") or {}
    contamination.update({"queries_checked": guard.get("checked", 0), "queries_dropped": guard.get("dropped", 0),
                          "eval_queries": guard.get("eval_queries", 0)})
    seconds["filter"] += filter_stats.get("seconds", 0.0)
    return {
        "ingest": ingest["corpus"],
        "sample": ingest["sample"],
        "queries": total,
        "by_language": languages,
        "by_method": methods,
        "documents": table(docs, sorted(k for k in docs if k), False),
        "dropped": {stage: dict(c) for stage, c in dropped.items()},
        "tokens": dict(tokens),
        "tokens_by_stage": {k: dict(v) for k, v in sorted(stage_tokens.items())},
        "models": [{"backend": b, "model": m} for b, m in sorted(models)],
        "seconds": {k: round(v, 2) for k, v in seconds.items()},
        "mining": dict(mining),
        "contamination": dict(contamination) if cfg.contamination.beir_dirs else {},
        "source_rank": {k: ranks[k] for k in sorted(ranks, key=_rank_key)},
        "language_id": {lang: {**v, "agreement": round(v["agree"] / v["checked"], 4) if v["checked"] else None}
                        for lang, v in sorted(lang_id.items())},
        "index": {"embedder": index_meta.get("embedder"), "index": index_meta.get("index"),
                  "rows": index_meta.get("rows")},
    }
