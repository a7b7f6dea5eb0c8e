"""The main job as plain Python (no orchestrator): the local runner.

`run(cfg)` checks the prompts and eval sets, creates (or resumes) the run dir, then runs every
stage of `synthir.stages.STAGES` in order (per-shard stages once per shard) and pushes the
dataset when `output.hub.repo_id` is set. Finished stages are skipped on a re-run of the same
config (resume). `flows/generate.py` runs the same list as Prefect tasks.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from data_schemas.config import RunConfig
from synthir.filters.contamination import eval_set
from synthir.generators import prompt_files
from synthir.publish.release import push
from synthir.rundir import RunDir, prepare_run
from synthir.stages import STAGES, Stage, run_stage
from synthir.stages.common import make_llm

log = logging.getLogger(__name__)


def prompt_shas(cfg: RunConfig) -> dict[str, str]:
    """sha256 of every prompt template and example file the run uses (loads and checks them)."""
    return prompt_files(cfg)


def start(cfg: RunConfig, shas: dict[str, str] | None = None) -> RunDir:
    """Check the prompts (or use the given input sha256s) and the contamination guard's eval
    sets (fail before any LLM call), then create (or resume) the run dir."""
    eval_set(cfg.contamination)
    return prepare_run(cfg, prompt_shas(cfg) if shas is None else shas)


def run_stages(cfg: RunConfig, run: RunDir, stages: list[Stage], llm: Any = None, progress: bool = True,
               params: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run `stages` in order in this process (shard stages over the shards that exist when
    they start); return the last stage's stats (the publish result)."""
    stats: dict[str, Any] = {}
    for stage in stages:
        targets = run.shard_dirs() if stage.scope == "shard" else [None]
        for shard in targets:
            stats = run_stage(stage, cfg, run, shard, llm=llm, progress=progress, params=params)
    return stats


def run(cfg: RunConfig, progress: bool = True) -> dict[str, Any]:
    """Run the whole job in this process; return the publish result plus "hub" (push summary
    or None) and total "seconds"."""
    t0 = time.time()
    run_dir = start(cfg)
    result = run_stages(cfg, run_dir, STAGES, llm=make_llm(cfg), progress=progress)
    result["hub"] = push(cfg, run_dir)
    result["seconds"] = round(time.time() - t0, 1)
    return result
