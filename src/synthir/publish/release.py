"""Publish a run locally, then push it to the Hub when `output.hub.repo_id` is set; and
re-publish an existing run dir with changed publish options (`synthir publish`, which holds
the output dir's lock: see synthir.lock), refused when the corpus was edited in place since the
run ingested it (that would re-publish stale data)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from data_schemas.config import RunConfig
from synthir.config import apply_overrides, validate_config
from synthir.errors import ConfigError, HubError, InputError
from synthir.lock import output_lock
from synthir.publish.hf import publish
from synthir.publish.swap import published_version
from synthir.rundir import RunDir, config_fingerprint, read_run_meta


def push(cfg: RunConfig, run: RunDir) -> dict[str, Any] | None:
    """Push the published dir to `output.hub.repo_id` (None when no repo is configured).
    Raises HubError saying the local dataset is complete when the push fails."""
    if not cfg.output.hub.repo_id:
        return None
    from synthir.publish.hub import push_to_hub

    try:  # the version dir, not the root's links: what is pushed cannot change under it
        return push_to_hub(published_version(run) or run.root, cfg.output.hub)
    except HubError as exc:
        raise HubError(f"the dataset is published locally in {run.root}, but {exc}; "
                       "re-run `synthir publish` on that dir to retry the push") from None


def release(cfg: RunConfig, run: RunDir) -> dict[str, Any]:
    """publish() then push(): the publish result, plus "hub" (push summary or None)."""
    result = publish(cfg, run)
    result["hub"] = push(cfg, run)
    return result


def republish_config(run_dir: Path, overrides: list[str]) -> RunConfig:
    """The config the run dir was made with (`.synthir/config.json`), with `overrides` and
    output.dir = `run_dir`. ConfigError when the dir holds no run, or when an override changes
    what was generated: only output.* and orchestration.* may change when re-publishing;
    InputError when the corpus changed since the run ingested it."""
    meta = read_run_meta(RunDir(run_dir))
    data = apply_overrides(meta["config"], overrides)
    data.setdefault("output", {})["dir"] = str(run_dir)
    cfg = validate_config(data)
    check_same_run(cfg, meta)
    check_corpus_unchanged(cfg, RunDir(run_dir))
    return cfg


def check_same_run(cfg: RunConfig, meta: dict[str, Any] | None = None) -> None:
    """ConfigError unless `cfg` makes the same data as the run in `cfg.output.dir` (its
    config.json, read again unless `meta` is given): only output.* and orchestration.* may
    differ. Re-checked under the lock by every publisher."""
    meta = meta or read_run_meta(RunDir(Path(cfg.output.dir)))
    if config_fingerprint(cfg, meta.get("prompt_sha256") or {}) != meta["fingerprint"]:
        raise ConfigError("re-publishing may only change output.* and orchestration.* keys; "
                          "other keys change the data: start a new run instead")


def check_corpus_unchanged(cfg: RunConfig, run: RunDir) -> None:
    """InputError when the corpus still exists where the run read it but its content changed
    since the run's ingest (a missing corpus is not checked: the run dir holds its copy)."""
    from synthir.io.corpus import source_fingerprint
    from synthir.stages.base import read_marker

    recorded = (read_marker(run.marker("ingest")) or {}).get("source_sha256")
    try:
        now = source_fingerprint(cfg.corpus)
    except InputError:
        return
    if recorded and now != recorded:
        raise InputError(f"corpus {cfg.corpus.path} changed since this run ingested it; re-publishing "
                         f"would publish pairs of the old corpus: run `synthir run` with the same config "
                         f"and --out {run.root} to re-ingest it")


def republish(run_dir: Path, overrides: list[str] | None = None) -> dict[str, Any]:
    """Re-publish (and push, if configured) the finished stages of an existing run dir,
    holding its lock (RunDirBusy when another process holds it)."""
    read_run_meta(RunDir(Path(run_dir)))  # no run there: fail before creating anything
    with output_lock(run_dir):
        cfg = republish_config(Path(run_dir), list(overrides or []))
        return release(cfg, RunDir(Path(run_dir)))
