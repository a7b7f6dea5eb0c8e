"""The main job as plain Python (no orchestrator): the local runner.

`run(cfg)` takes the output dir's lock (synthir.lock: one process per output dir, held until
it returns), checks the prompts and eval sets, creates (or resumes) the run dir, then runs every
stage of `synthir.stages.STAGES` in order (per-shard stages once per shard; in rounds with
`target.kept_pairs`, synthir.rounds; LLM calls metered against `budget.*`, synthir.budget) and
pushes the dataset when `output.hub.repo_id` is set. Finished stages are skipped on a re-run of the same
config (resume). `flows/generate.py` runs the same list as Prefect tasks.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from data_schemas.config import RunConfig
from data_schemas.records import Rejected
from synthir.errors import AllCallsFailed
from synthir.filters.contamination import eval_set
from synthir.generators import prompt_files
from synthir.lock import output_lock
from synthir.publish.release import push
from synthir.rounds import run_metered
from synthir.rundir import RunDir, prepare_run, read_records
from synthir.stages import STAGES, Stage, run_stage
from synthir.stages.common import make_llm

log = logging.getLogger(__name__)


def prompt_shas(cfg: RunConfig) -> dict[str, str]:
    """sha256 of every prompt template and example file the run uses (loads and checks them)."""
    return prompt_files(cfg)


def start(cfg: RunConfig, shas: dict[str, str] | None = None) -> RunDir:
    """Check the prompts (or use the given input sha256s) and the contamination guard's eval
    sets (fail before any LLM call), then create (or resume) the run dir. Call it holding the
    output dir's lock (`synthir.lock.output_lock`): the fingerprint check and the config.json
    write must not race another process."""
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


def check_calls(result: dict[str, Any], run: RunDir) -> None:
    """Raise AllCallsFailed (exit 3) when the finished run made LLM calls and every one failed
    (its funnel counts as many `llm_error` drops as calls); the message quotes one error."""
    funnel = result.get("funnel") or {}
    calls = int(funnel.get("tokens", {}).get("calls", 0))
    failed = sum(int(r.get("llm_error", 0)) for r in funnel.get("dropped", {}).values())
    if not calls or failed < calls:
        return
    example = ""
    for stage in STAGES:
        if stage.llm and stage.rejected:
            for path in stage.targets(run, None, (stage.rejected,)):
                row = next((r for r in read_records(path, Rejected, missing_ok=True)
                            if r.reason == "llm_error"), None)
                if row is not None:
                    example = f" (e.g. {row.detail[:200]})"
                    break
        if example:
            break
    raise AllCallsFailed(f"every LLM call failed: {failed} of {calls}{example}; nothing was "
                         f"generated (the failures are in the rejected config of {run.root}); "
                         "check llm.* and the server, then re-run the same command")


def run_job(cfg: RunConfig, run_dir: RunDir, stages: list[Stage], progress: bool = True,
            params: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run `stages` under the run's budget ledger (synthir.budget): the work stages once, or in
    rounds until `target.kept_pairs` (synthir.rounds); then the always-run stages (publish),
    whatever stopped the work (a budget stop publishes what exists). Returns the publish
    result plus "stopped" (None, or why the run stopped early: the budget, the corpus, the
    round limit). Call it holding the output dir's lock."""
    work = [s for s in stages if not s.always]
    llms: list[Any] = []  # made once, inside the ledger (make_llm meters the calls of an open ledger)

    def one_pass() -> None:
        if not llms:
            llms.append(make_llm(cfg))
        run_stages(cfg, run_dir, work, llm=llms[0], progress=progress, params=params)

    budget, rounds = run_metered(cfg, run_dir, one_pass)
    result = run_stages(cfg, run_dir, [s for s in stages if s.always], llm=llms[0] if llms else None,
                        progress=progress, params=params)
    result["stopped"] = stop_reason(budget, rounds)
    return result


def stop_reason(budget: dict[str, Any], rounds: dict[str, Any] | None) -> str | None:
    """Why a run ended before its work was done: "budget (<limit>)", corpus_exhausted or
    max_rounds (target mode); None when it finished."""
    if budget.get("stopped"):
        return f"budget ({budget['stopped']['reason']})"
    if rounds is not None and rounds["stopped"] != "target_reached":
        return rounds["stopped"]
    return None


def run(cfg: RunConfig, progress: bool = True) -> dict[str, Any]:
    """Run the whole job in this process, holding the output dir's lock; return the publish
    result plus "hub" (push summary or None), "stopped" and total "seconds". Raises
    RunDirBusy when another process holds the dir, AllCallsFailed (after publishing) when
    every LLM call failed."""
    t0 = time.time()
    with output_lock(cfg.output.dir):
        run_dir = start(cfg)
        result = run_job(cfg, run_dir, STAGES, progress=progress)
        check_calls(result, run_dir)
        result["hub"] = push(cfg, run_dir)
    result["seconds"] = round(time.time() - t0, 1)
    return result
