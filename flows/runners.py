"""The flow's task runner from `orchestration` in the run config: a thread pool on one
machine, or Dask / Ray for users who outgrow it (extras `[dask]` / `[ray]`)."""

from __future__ import annotations

import importlib
from typing import Any

from data_schemas.run_options import OrchestrationConfig
from synthir.errors import ConfigError


def make_task_runner(orch: OrchestrationConfig) -> Any:
    """thread -> ThreadPoolTaskRunner(max_workers); dask -> DaskTaskRunner on `address` or a
    local cluster of `max_workers` single-threaded worker processes; ray -> RayTaskRunner on
    `address` or a local Ray with `max_workers` CPUs. Raises ConfigError naming the extra to
    install when prefect-dask / prefect-ray is missing."""
    if orch.task_runner == "thread":
        from prefect.task_runners import ThreadPoolTaskRunner

        return ThreadPoolTaskRunner(max_workers=orch.max_workers)
    if orch.task_runner == "dask":
        DaskTaskRunner = _extra("prefect_dask", "DaskTaskRunner", "dask")
        if orch.address:
            return DaskTaskRunner(address=orch.address)
        return DaskTaskRunner(cluster_kwargs={"n_workers": orch.max_workers, "threads_per_worker": 1,
                                              "processes": True, "dashboard_address": None})
    RayTaskRunner = _extra("prefect_ray", "RayTaskRunner", "ray")
    if orch.address:
        return RayTaskRunner(address=orch.address)
    return RayTaskRunner(init_kwargs={"num_cpus": orch.max_workers})


def _extra(module: str, name: str, extra: str) -> Any:
    """`module.name`, or ConfigError naming the extra that installs it."""
    try:
        return getattr(importlib.import_module(module), name)
    except ImportError:
        raise ConfigError(f"orchestration.task_runner: {extra} needs the [{extra}] extra "
                          f"(pip install 'synthir[{extra}]')") from None
