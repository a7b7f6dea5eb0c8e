"""What a stage is, and the one function that runs any stage (`run_stage`).

A `Stage` declares its name, its scope (`run`: once per run; `shard`: once per shard of
passages), the files it reads and writes (property names of `RunDir` / `ShardDir`; a shard
file read or written by a run-scope stage means that file in every shard), and `run(ctx) ->
stats`. `run_stage` does, for every stage alike: skip when the done-marker records the same
input hash, a complete run and outputs that are still whole, timing, the check that every
declared output exists, and the done-marker, written last (so a kill at any point redoes the
stage, never half of it).

Done-marker (`<stage>.done.json` in the run or shard dir), one format for every stage:
{"stage", "input_sha256", "complete", "seconds", "outputs", ...the stage's own stats}.
`complete` is false when some LLM calls failed: the stage is then redone on the next run (its
successful calls come back from the response cache). `outputs` maps each output file (path
under `.synthir/`) to its sha256: an output deleted, truncated or edited since makes the stage
run again (self-healing run dirs), and the stages after it see new inputs and run again too.
An unreadable marker counts as absent.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from data_schemas.config import RunConfig
from synthir.io.files import file_sha, write_json_atomic
from synthir.rundir import RunDir, ShardDir, files_of

log = logging.getLogger(__name__)
Scope = Literal["run", "shard"]
Stats = dict[str, Any]
RUN_FILES = set(files_of("run"))
SHARD_FILES = set(files_of("shard"))


@dataclass
class Context:
    """What a stage run sees: the config, the run dir, its shard (shard scope), the LLM shared
    by the runner (None: the stage builds one if it needs it), whether to draw progress bars,
    and the runner's parameters (e.g. `synthir filter`'s pairs file)."""

    cfg: RunConfig
    run: RunDir
    shard: ShardDir | None = None
    llm: Any = None
    progress: bool = False
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def sh(self) -> ShardDir:
        """The shard of a shard-scope stage."""
        assert self.shard is not None, "a run-scope stage has no shard"
        return self.shard


@dataclass(frozen=True)
class Stage:
    """One declared stage of the job (see module doc). `key(cfg)`: extra input of the skip
    hash besides the files (e.g. the contamination guard's eval set); `always`: run every time
    (publish), no marker. For the funnel and publish: `rejected` names the output holding
    the stage's Rejected rows; `group` (queries | documents) and `counts` ((output, funnel
    column), ...) say which records it counts where; `llm`: its stats carry tokens, model,
    requested; `funnel` folds one marker's own stats into the run's funnel (synthir.funnel)."""

    name: str
    scope: Scope
    reads: tuple[str, ...]
    writes: tuple[str, ...]
    run: Callable[[Context], Stats]
    key: Callable[[RunConfig], str] | None = None
    always: bool = False
    rejected: str | None = None
    group: Literal["queries", "documents"] | None = None
    counts: tuple[tuple[str, str], ...] = ()
    llm: bool = False
    funnel: Callable[[Any, Stats], None] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        unknown = [f for f in self.reads + self.writes if f not in RUN_FILES | SHARD_FILES]
        if unknown:
            raise ValueError(f"stage {self.name}: undeclared files {unknown}")
        outputs = [f for f, _ in self.counts] + ([self.rejected] if self.rejected else [])
        if not set(outputs) <= set(self.writes):
            raise ValueError(f"stage {self.name}: counts / rejected must name its outputs")

    def targets(self, run: RunDir, shard: ShardDir | None, names: tuple[str, ...]) -> list[Path]:
        """Paths of `names` for this stage run (shard files of every shard for a run scope)."""
        shards = [shard] if self.scope == "shard" and shard else run.shard_dirs()
        out: list[Path] = []
        for name in names:
            out += [getattr(run, name)] if name in RUN_FILES else [getattr(s, name) for s in shards]
        return out

    def marker(self, run: RunDir, shard: ShardDir | None) -> Path:
        return (shard if self.scope == "shard" and shard else run).marker(self.name)


def input_sha(stage: Stage, cfg: RunConfig, run: RunDir, shard: ShardDir | None) -> str:
    """sha256 over the stage's declared inputs (name + bytes; a missing file counts as such)
    and its extra key."""
    h = hashlib.sha256()
    for p in stage.targets(run, shard, stage.reads):
        h.update(str(p.relative_to(run.base) if p.is_relative_to(run.base) else p.name).encode())
        if p.exists():
            st = p.stat()
            h.update(file_sha(p).encode())
        else:
            h.update(b"<missing>")
    if stage.key:
        h.update(stage.key(cfg).encode())
    return h.hexdigest()


def read_marker(path: Path) -> Stats | None:
    """A done-marker, or None when absent or unreadable (the stage is then redone)."""
    if not path.exists():
        return None
    try:
        marker = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.warning("done-marker %s is unreadable (%s): its stage runs again", path, exc)
        return None
    return marker if isinstance(marker, dict) else None


def output_shas(stage: Stage, run: RunDir, shard: ShardDir | None) -> dict[str, str]:
    """{path under .synthir/: sha256} of the stage's declared outputs (recorded in its marker)."""
    return {str(p.relative_to(run.base)): file_sha(p)
            for p in stage.targets(run, shard, stage.writes) if p.is_file()}


def damaged_outputs(stage: Stage, run: RunDir, shard: ShardDir | None, marker: Stats) -> list[Path]:
    """Outputs of a finished stage that are missing, or changed since its marker was written
    (a marker without `outputs`, from an older synthir: the declared outputs that are missing)."""
    recorded = marker.get("outputs")
    if not isinstance(recorded, dict):
        return [p for p in stage.targets(run, shard, stage.writes) if not p.exists()]
    return [run.base / rel for rel, sha in recorded.items()
            if not (run.base / rel).is_file() or file_sha(run.base / rel) != sha]


def damaged_run(run: RunDir, stages: list[Stage]) -> list[tuple[str, Path]]:
    """(stage, file) for every output of a finished stage (a marker exists) of `stages` that is
    missing or changed since: what publishing now would silently lose."""
    bad: list[tuple[str, Path]] = []
    for stage in stages:
        if stage.always:
            continue
        for shard in (run.shard_dirs() if stage.scope == "shard" else [None]):
            marker = read_marker(stage.marker(run, shard))
            if marker is not None:
                bad += [(stage.name, p) for p in damaged_outputs(stage, run, shard, marker)]
    return bad


def run_stage(stage: Stage, cfg: RunConfig, run: RunDir, shard: ShardDir | None = None,
              llm: Any = None, progress: bool = False, params: dict[str, Any] | None = None) -> Stats:
    """Run `stage` (for `shard` when shard-scoped) unless its marker says it is done with the
    same inputs; return its marker (the stage's stats plus stage, input_sha256, complete,
    seconds)."""
    if stage.scope == "shard" and shard is None:
        raise ValueError(f"stage {stage.name} runs per shard: give a shard")
    marker = stage.marker(run, shard)
    sha = input_sha(stage, cfg, run, shard)
    old = None if stage.always else read_marker(marker)
    if old is not None and old.get("input_sha256") == sha and old.get("complete"):
        damaged = damaged_outputs(stage, run, shard, old)
        if not damaged:
            return old
        log.warning("stage %s%s: %s missing or changed since it ran; running it again", stage.name,
                    f" (shard {shard.name})" if shard else "",
                    ", ".join(str(p.relative_to(run.base)) for p in damaged[:3]))
    t0 = time.time()
    stats = stage.run(Context(cfg, run, shard, llm, progress, params or {}))
    missing = [str(p) for p in stage.targets(run, shard, stage.writes) if not p.exists()]
    if missing:
        raise RuntimeError(f"stage {stage.name} did not write its declared outputs: {missing}")
    if stage.always:  # no marker: its stats are its result (publish: the publish result)
        return stats
    out = {**stats, "stage": stage.name, "input_sha256": sha, "outputs": output_shas(stage, run, shard),
           "complete": bool(stats.get("complete", True)), "seconds": round(time.time() - t0, 3)}
    write_json_atomic(marker, out)
    return read_marker(marker) or out
