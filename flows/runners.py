"""The flow's task runner from `orchestration` in the run config: a thread pool on one
machine, or Dask / Ray for users who outgrow it (extras `[dask]` / `[ray]`)."""

from __future__ import annotations

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
        try:
            from prefect_dask import DaskTaskRunner
        except ImportError:
            raise ConfigError("orchestration.task_runner: dask needs the [dask] extra "
                              "(pip install 'synthir[dask]')") from None
        if orch.address:
            return DaskTaskRunner(address=orch.address)
        return DaskTaskRunner(cluster_kwargs={"n_workers": orch.max_workers, "threads_per_worker": 1,
                                              "processes": True, "dashboard_address": None})
    try:
        from prefect_ray import RayTaskRunner
    except ImportError:
        raise ConfigError("orchestration.task_runner: ray needs the [ray] extra "
                          "(pip install 'synthir[ray]')") from None
    if orch.address:
        return RayTaskRunner(address=orch.address)
    return RayTaskRunner(init_kwargs={"num_cpus": orch.max_workers})
