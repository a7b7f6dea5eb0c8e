"""Target mode: sample and generate in resumable rounds until `target.kept_pairs` is reached.

Round 0 is the ingest stage's sample (`sample.n` passages). After each pass of the stages the
runner counts the kept pairs (the judge's `judged` records, per query language) and, if the
target is not reached, the budget not spent and `target.max_rounds` not hit, samples a new
round: passages never sampled before (ids and texts), seeded by (sample.seed, round), with
the same language strata and guards as `sample.*`, written as new shards after the existing
ones; then the stages run again (finished shards are skipped by their markers, run-scope stages
such as the filter see every shard). The round size is `target.round_passages`, else the
passages the keep rate so far says are still needed, plus 10%, at most 4x the previous round
(twice the previous round while nothing is kept yet). A round that finds no new eligible
passage ends the run: the corpus is exhausted.

`.synthir/rounds.json` records each round (number, first shard, shards, passages, kept pairs
after it) before its shards are written, so a run killed at any point resumes: an interrupted
round is sampled again identically (same seed, size and exclusions) and its shards finished.
The dataset keeps every pair kept (it may pass the target by part of a round).
"""

from __future__ import annotations

import json
import math
import random
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

from data_schemas.config import RunConfig
from data_schemas.records import Passage, QueryRecord
from synthir.budget import Ledger, close_ledger, open_ledger
from synthir.io.files import write_json_atomic
from synthir.rundir import RunDir, read_records, write_records
from synthir.sampling import _text_key, sample_passages


def kept_by_lang(run: RunDir) -> Counter:
    """Kept pairs per query language over every shard (after the judge)."""
    c: Counter = Counter()
    for shard in run.shard_dirs():
        for q in read_records(shard.judged, QueryRecord, missing_ok=True):
            c[q.query_lang] += 1
    return c


def missing(cfg: RunConfig, kept: Counter) -> dict[str, int]:
    """Pairs still needed: {"total": n} or {lang: n} (zeros included)."""
    target = cfg.target.kept_pairs
    if isinstance(target, dict):
        return {lang: max(0, n - kept[lang]) for lang, n in sorted(target.items())}
    return {"total": max(0, int(target or 0) - sum(kept.values()))}


def round_size(cfg: RunConfig, kept: Counter, sampled: int, last: int) -> int:
    """Passages of the next round (see module doc)."""
    if cfg.target.round_passages:
        return cfg.target.round_passages
    need = missing(cfg, kept)
    rates = {k: (sum(kept.values()) if k == "total" else kept[k]) / sampled if sampled else 0.0 for k in need}
    if any(n and not rates[k] for k, n in need.items()):
        return max(1, 2 * last)
    est = max(n / rates[k] for k, n in need.items() if n)
    return max(1, min(math.ceil(est * 1.1), 4 * last))


def _stream(run: RunDir, used_ids: set[str], used_texts: set[bytes]) -> Iterator[Passage]:
    for batch in run.store.batches():
        for row in batch.to_pylist():
            if row["id"] in used_ids:
                continue
            p = Passage(id=row["id"], text=row["text"], title=row.get("title") or "", lang=row.get("lang") or "und")
            if _text_key(p.text) not in used_texts:
                yield p


def sample_round(cfg: RunConfig, run: RunDir, number: int, size: int, first_shard: int) -> list[Passage]:
    """Draw round `number`'s passages (none sampled in shards before `first_shard`) and write
    them as shards from `first_shard` on; deterministic for the same inputs."""
    used_ids: set[str] = set()
    used_texts: set[bytes] = set()
    for shard in run.shard_dirs():
        if int(shard.name) < first_shard:
            for p in read_records(shard.passages, Passage):
                used_ids.add(p.id)
                used_texts.add(_text_key(p.text))
    sample = cfg.sample.model_copy(update={"n": size})
    drawn = sample_passages(_stream(run, used_ids, used_texts), sample,
                            random.Random(f"{cfg.sample.seed}:round:{number}")).passages
    for i in range(0, len(drawn), cfg.shard_size):
        write_records(run.shard(first_shard + i // cfg.shard_size).passages, drawn[i:i + cfg.shard_size])
    return drawn


def first_round_passages(run: RunDir) -> list[Passage]:
    """The passages of round 0 (the ingest stage's sample), in shard order: the passages of
    every shard, unless target mode has added rounds. The few-shot pools (stages bootstrap and
    probe) draw their passages here, so a new round leaves them, and the shards already
    generated, unchanged."""
    rounds = _load(run).get("rounds", [])
    shards = run.shard_dirs()
    if len(rounds) > 1:
        shards = [s for s in shards if int(s.name) < rounds[1]["first_shard"]]
    return [p for shard in shards for p in read_records(shard.passages, Passage)]


def _load(run: RunDir) -> dict[str, Any]:
    try:
        return json.loads(run.rounds.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"rounds": []}


def run_rounds(cfg: RunConfig, run: RunDir, work: Callable[[], None], ledger: Ledger | None) -> dict[str, Any]:
    """Run `work` (one pass of the stages) in rounds until the target is reached (see module
    doc); return rounds.json's content {"target", "rounds", "stopped", "kept"}."""
    state = _load(run)
    rounds: list[dict[str, Any]] = state.get("rounds", [])
    if not rounds:  # round 0: the ingest stage's sample
        work()
        shards = run.shard_dirs()
        rounds.append({"round": 0, "first_shard": 0, "shards": len(shards),
                       "passages": sum(len(read_records(s.passages, Passage)) for s in shards), "written": True})
    pending = rounds[-1] if not rounds[-1].get("written", True) else None
    if pending is not None:  # killed between recording a round and writing its shards
        drawn = sample_round(cfg, run, pending["round"], pending["size"], pending["first_shard"])
        pending.update(passages=len(drawn), written=True)
    work()  # finishes whatever a previous invocation left (no-op for finished shards)
    stopped = None
    while True:
        kept = kept_by_lang(run)
        rounds[-1]["kept"] = dict(sorted(kept.items()))
        short = missing(cfg, kept)
        if not any(short.values()):
            stopped = "target_reached"
        elif ledger is not None and ledger.exhausted():
            stopped = "budget"
            ledger.stop(str(ledger.exhausted()))
        elif len(rounds) >= cfg.target.max_rounds:
            stopped = "max_rounds"
        if stopped:
            break
        sampled = sum(r["passages"] for r in rounds)
        size = round_size(cfg, kept, sampled, rounds[-1].get("size") or rounds[-1]["passages"] or 1)
        first = max([int(s.name) for s in run.shard_dirs()] + [-1]) + 1
        entry = {"round": len(rounds), "first_shard": first, "size": size, "written": False}
        rounds.append(entry)
        _save(run, cfg, rounds, None)
        drawn = sample_round(cfg, run, entry["round"], size, first)
        entry.update(passages=len(drawn), shards=math.ceil(len(drawn) / cfg.shard_size), written=True)
        if not drawn:
            entry["kept"] = dict(sorted(kept.items()))
            stopped = "corpus_exhausted"
            break
        _save(run, cfg, rounds, None)
        work()
    return _save(run, cfg, rounds, stopped)


def _save(run: RunDir, cfg: RunConfig, rounds: list[dict[str, Any]], stopped: str | None) -> dict[str, Any]:
    kept = rounds[-1].get("kept", {})
    state = {"target": cfg.target.model_dump(), "rounds": rounds, "stopped": stopped,
             "kept": {"total": sum(kept.values()), **kept},
             "sampled": sum(r.get("passages", 0) for r in rounds)}
    write_json_atomic(run.rounds, state)
    return state


def run_metered(cfg: RunConfig, run: RunDir, work: Callable[[], None]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """`work` (one pass of the work stages) once, or in rounds until `target.kept_pairs`, with
    the run's budget ledger open (so `make_llm` meters every call made meanwhile). Returns
    (the ledger's summary, rounds.json's content or None without a target). The runners
    (synthir.pipeline, flows.generate) call it holding the output dir's lock."""
    led = open_ledger(cfg)
    try:
        rounds = run_rounds(cfg, run, work, led) if cfg.target.kept_pairs is not None else None
        if rounds is None:
            work()
        return led.summary(), rounds
    finally:
        close_ledger(cfg)
