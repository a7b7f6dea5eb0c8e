"""The run directory, its one owner: every work file of a run is a named property here.

`<output.dir>/.synthir/` holds the work files of a run (`RunDir`), one folder per shard of
sampled passages (`ShardDir`), the lock and the published versions; the published dataset
(README.md, data/, beir/, funnel.json) is reached from `<output.dir>` itself (links into the
current version). Stages name the files they read and write by these property names
(see `synthir.stages`); `layout()` lists them all (docs/architecture.md is generated from it).
Records are read back typed (`read_records(path, Model)`) and written atomically.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from data_schemas.config import RunConfig
from synthir.corpus_store import CorpusStore
from synthir.errors import ConfigError, InputError
from synthir.ids import content_id
from synthir.io.files import read_jsonl, write_json_atomic, write_jsonl_atomic

# 1: before the declared stage graph (ingest/stats.json, index.json, ...). A layout-2 run dir
# made before documents, detected languages and duplicate clusters resumes: its ingest marker
# has no corpus key, so ingest runs again and rewrites corpus.parquet (with doc_id, ...) and
# clusters.parquet; every later stage whose inputs changed follows.
LAYOUT_VERSION = 2
M = TypeVar("M", bound=BaseModel)


# Every work file of a run, once: property name -> (where: the run dir or each shard dir,
# path inside it, what it holds).
FILES: dict[str, tuple[str, str, str]] = {
    "config": ("run", "config.json", "validated config, fingerprint, prompt sha256s, layout version"),
    "lock": ("run", "lock", "OS file lock held by the one synthir process using this dir (synthir.lock)"),
    "lock_info": ("run", "lock.json", "who holds the lock: pid, host, command, start time"),
    "published": ("run", "published", "published versions (`v-*/`) and the `current` link the "
                  "root's README.md, data, beir, funnel.json point through (synthir.publish.swap)"),
    "corpus": ("run", "corpus.parquet", "normalised corpus: id, title, text, lang, lang_confidence, "
               "doc_id, position (CorpusStore)"),
    "clusters": ("run", "clusters.parquet", "duplicate clusters: id, cluster_id, kind (exact | near) "
                 "of passages with a duplicate (CorpusStore.clusters)"),
    "ingest_rejected": ("run", "ingest_rejected.jsonl", "corpus rows skipped at ingest (Rejected)"),
    "byo_pairs": ("run", "byo_pairs.jsonl", "`synthir filter`: the user's pairs as QueryRecords"),
    "byo_rejected": ("run", "byo_rejected.jsonl", "`synthir filter`: unusable pair rows (Rejected)"),
    "bootstrap_examples": ("run", "bootstrap_examples.jsonl",
                           "bootstrap pilot: in-domain few-shot examples per method (BootstrapExample)"),
    "example_pools": ("run", "example_pools.jsonl",
                      "the main round's few-shot pools of methods that bootstrap or probe, retired "
                      "examples marked (PoolExample; stage probe)"),
    "rounds": ("run", "rounds.json", "target mode: the rounds sampled so far (shards, passages, kept pairs "
               "after each) and why the run stopped (synthir.rounds)"),
    "budget": ("run", "budget.json", "budget ledger: tokens, cost, calls and hours spent by this run over "
               "every invocation, and whether it stopped on budget (synthir.budget)"),
    "passages": ("shard", "passages.jsonl", "sampled passages (Passage)"),
    "queries": ("shard", "queries.jsonl", "parsed generated queries (QueryRecord)"),
    "generate_rejected": ("shard", "generate_rejected.jsonl", "failed calls and parse rejects (Rejected)"),
    "filtered": ("shard", "filtered.jsonl", "queries that passed the cheap filters (QueryRecord)"),
    "filter_rejected": ("shard", "filter_rejected.jsonl", "queries dropped by the cheap filters (Rejected)"),
    "kept": ("shard", "kept.jsonl", "round-trip kept queries, with rank and score (QueryRecord)"),
    "roundtrip_rejected": ("shard", "roundtrip_rejected.jsonl", "source not in the top-K (Rejected)"),
    "judged": ("shard", "judged.jsonl", "kept queries after the judge: relabelled positives, source "
               "as provenance (QueryRecord; the round trip's kept when the judge is off)"),
    "judgments": ("shard", "judgments.jsonl", "the judge's grade of each (kept query, source or candidate) "
                  "(Judgment)"),
    "judge_rejected": ("shard", "judge_rejected.jsonl", "queries whose source the judge graded irrelevant "
                       "(Rejected)"),
    "documents": ("shard", "documents.jsonl", "generated documents for kept queries (DocumentRecord)"),
    "documents_rejected": ("shard", "documents_rejected.jsonl", "failed / unparsable documents (Rejected)"),
    "verified_documents": ("shard", "verified_documents.jsonl",
                           "documents that passed verification (DocumentRecord)"),
    "verify_rejected": ("shard", "verify_rejected.jsonl", "documents dropped by verification (Rejected)"),
    "negatives": ("shard", "negatives.jsonl", "mined hard negatives (MinedNegative)"),
    "teacher_scores": ("shard", "teacher_scores.jsonl", "teacher scores of positives and negatives (TeacherScore)"),
}


def files_of(where: str) -> list[str]:
    """Names of the declared files of the run dir (`run`) or of a shard dir (`shard`)."""
    return [k for k, (w, _, _) in FILES.items() if w == where]


class _Dir:
    """Declared files as attributes: `ShardDir(p).kept` is `p / "kept.jsonl"`."""

    base: Path
    where = ""

    def __getattr__(self, name: str) -> Path:
        entry = FILES.get(name)
        if entry is None or entry[0] != self.where:
            raise AttributeError(f"{type(self).__name__} declares no file {name!r}")
        return self.base / entry[1]

    @property
    def name(self) -> str:
        return self.base.name

    def marker(self, stage: str) -> Path:
        """The done-marker of `stage` here (one format for every stage: see stages.base)."""
        return self.base / f"{stage}.done.json"


def read_records(path: Path, model: type[M], missing_ok: bool = False) -> list[M]:
    """The records of a JSONL work file, validated as `model` ([] for a missing file when
    `missing_ok`). A missing (not `missing_ok`) or damaged file is an InputError naming it:
    the stage that writes it runs again on a re-run of the same command."""
    if missing_ok and not path.exists():
        return []
    try:
        return [model.model_validate(r) for r in read_jsonl(path)]
    except (OSError, ValueError) as exc:  # ValueError: bad JSON, bad UTF-8, failed validation
        what = "missing" if isinstance(exc, FileNotFoundError) else "damaged"
        detail = " ".join(str(exc).split())[:200]
        raise InputError(f"work file {path} is {what} ({detail}); run the same command again "
                         "to rebuild it") from None


def write_records(path: Path, records: Iterable[BaseModel | dict[str, Any]]) -> int:
    """Write records to a JSONL work file atomically; return the count."""
    return write_jsonl_atomic(path, records)


@dataclass(frozen=True)
class ShardDir(_Dir):
    """One shard of sampled passages: the unit of work, resume and Prefect task."""

    base: Path
    where = "shard"


@dataclass(frozen=True)
class RunDir(_Dir):
    """The work files of one run (`root` is the output dir; they live in `root/.synthir`)."""

    root: Path
    where = "run"

    @property
    def base(self) -> Path:
        return self.root / ".synthir"

    @property
    def shards_dir(self) -> Path:
        return self.base / "shards"

    @property
    def store(self) -> CorpusStore:
        return CorpusStore(self.corpus, self.clusters)

    def shard(self, number: int) -> ShardDir:
        return ShardDir(self.shards_dir / f"{number:05d}")

    def shard_dirs(self) -> list[ShardDir]:
        """Existing shard directories, in order."""
        return [ShardDir(p) for p in sorted(self.shards_dir.glob("[0-9]*")) if p.is_dir()]


def layout() -> list[tuple[str, str, str]]:
    """(path under output.dir, property, what it holds) of every declared work file."""
    return [(f".synthir/{'shards/NNNNN/' if w == 'shard' else ''}{rel}",
             f"{'ShardDir' if w == 'shard' else 'RunDir'}.{k}", doc) for k, (w, rel, doc) in FILES.items()]


def config_fingerprint(cfg: RunConfig, prompt_shas: dict[str, str] | None = None) -> str:
    """Hash of everything that changes the generated and filtered records: the config, except
    the publish options (output.*: dir, licence, split, hub...), orchestration (how tasks
    run), the target and the budget (how much to make: raising them continues the run) and
    the LLM prices, plus the sha256 of every prompt / example file the run uses. Options left at their
    defaults are not part of it, so a synthir release that adds an option (with a default that
    keeps the old behaviour) still resumes the runs of the previous one."""
    d = cfg.model_dump(mode="json", exclude_defaults=True)
    for key in ("output", "orchestration", "target", "budget"):  # how much / where, not what
        d.pop(key, None)
    for llm in (d.get("llm"), (d.get("judge") or {}).get("llm"), (d.get("teacher") or {}).get("llm")):
        if isinstance(llm, dict):
            llm.pop("price", None)
    return content_id(d, prompt_shas or {})


def read_run_meta(run: RunDir) -> dict[str, Any]:
    """The run's config.json {fingerprint, config, prompt_sha256, layout}. ConfigError when the
    dir holds no run; InputError when it was written with another work-file layout."""
    if not run.config.is_file():
        raise ConfigError(f"{run.root} holds no synthir run (no .synthir/config.json)")
    meta = json.loads(run.config.read_text(encoding="utf-8"))
    if meta.get("layout", 1) != LAYOUT_VERSION:
        raise InputError(f"{run.root} holds a run made by an older synthir (work-file layout "
                         f"{meta.get('layout', 1)}, this version writes {LAYOUT_VERSION}); "
                         "use a new --out (or delete that dir) to run again")
    return meta


def prepare_run(cfg: RunConfig, prompt_shas: dict[str, str] | None = None) -> RunDir:
    """Create the run dir, or reuse it when it holds the same config (resume).

    Raises InputError when the output dir holds a run of a different config (runs never mix)
    or one written by an older synthir with another work-file layout.
    """
    run = RunDir(Path(cfg.output.dir))
    fp = config_fingerprint(cfg, prompt_shas)
    if run.config.exists():
        old = read_run_meta(run)
        if old.get("fingerprint") != fp:
            raise InputError(f"{run.root} holds a run of a different config or prompt "
                             f"(fingerprint {old.get('fingerprint')} != {fp}); "
                             "use another output.dir or delete it")
    else:
        run.base.mkdir(parents=True, exist_ok=True)
        write_json_atomic(run.config, {"fingerprint": fp, "config": cfg.model_dump(mode="json"),
                                       "prompt_sha256": prompt_shas or {}, "layout": LAYOUT_VERSION})
    return run
