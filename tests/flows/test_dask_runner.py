"""The generate flow on a local 2-worker Dask cluster (prefect-dask): shard tasks run in the
worker processes, each with its own in-process llama.cpp model, and the run publishes."""

from __future__ import annotations

import json
import os

import pytest
from datasets import load_dataset

from data_schemas.run_options import OrchestrationConfig
from synthir.errors import ConfigError
from tests.conftest import demo_config

pytestmark = pytest.mark.slow


def test_task_runner_from_config():
    from prefect.task_runners import ThreadPoolTaskRunner
    from prefect_dask import DaskTaskRunner

    from flows.runners import make_task_runner

    thread = make_task_runner(OrchestrationConfig(max_workers=3))
    assert isinstance(thread, ThreadPoolTaskRunner) and thread._max_workers == 3
    dask = make_task_runner(OrchestrationConfig(task_runner="dask", max_workers=2))
    assert isinstance(dask, DaskTaskRunner) and dask.cluster_kwargs["n_workers"] == 2
    remote = make_task_runner(OrchestrationConfig(task_runner="dask", address="tcp://10.0.0.5:8786"))
    assert remote.address == "tcp://10.0.0.5:8786"
    try:
        import prefect_ray  # noqa: F401
    except ImportError:  # the [ray] extra is not installed by `make test`: a clear error
        with pytest.raises(ConfigError, match=r"\[ray\] extra"):
            make_task_runner(OrchestrationConfig(task_runner="ray"))


def test_generate_flow_on_a_local_dask_cluster(wiki_corpus, tmp_path):
    from flows.generate import run_generate

    cfg = demo_config(wiki_corpus, tmp_path / "out", **{
        "sample.n": 4, "sample.seed": 11, "shard_size": 1, "llm.backend": "llamacpp",
        "llm.threads": 1, "orchestration.task_runner": "dask", "orchestration.max_workers": 2})
    result = run_generate(cfg)
    shards = sorted((tmp_path / "out" / ".synthir" / "shards").iterdir())
    assert len(shards) == 4
    workers = {json.loads((s / "generate.done.json").read_text())["worker"] for s in shards}
    me = f":{os.getpid()}"
    assert len(workers) == 2 and not any(w.endswith(me) for w in workers)  # both Dask workers ran shards
    assert result["funnel"]["queries"]["prompts"] == 64  # 4 passages x en, fr x 8 samples
    assert result["funnel"]["queries"]["generated"] == 64
    pairs = load_dataset(str(cfg.output.dir), "pairs")["train"]
    assert len(pairs) == result["rows"]["pairs"] == result["funnel"]["queries"]["roundtrip_kept"] > 0
