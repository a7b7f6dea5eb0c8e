"""Run options that do not change what is generated: publishing (output dir, train/dev split,
hub push), the contamination guard, and orchestration (task runner, schedule).

Only `contamination` enters the run fingerprint (it changes which records are kept); the rest
can change between a run and its re-publish.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
_TOKEN_PREFIXES = ("hf_", "sk-", "sk_", "ghp_", "gho_", "github_pat_", "xoxb-", "xoxp-")


def looks_like_secret(value: str) -> bool:
    """True when `value` looks like a token itself rather than an env var name: a known token
    prefix followed by a long tail, or a long mixed-case string with digits."""
    if any(value.startswith(p) and len(value) >= len(p) + 16 for p in _TOKEN_PREFIXES):
        return True
    return len(value) >= 24 and any(c.islower() for c in value) and any(c.isupper() for c in value) \
        and any(c.isdigit() for c in value)


def check_env_name(value: str | None) -> str | None:
    """Validator of `*_env` keys: the value must name an environment variable (HF_TOKEN), not
    hold the secret. The error never repeats the value (it may be a token)."""
    if value is None:
        return value
    if not _ENV_NAME.fullmatch(value) or looks_like_secret(value):
        raise ValueError("must name an environment variable (e.g. HF_TOKEN), not hold the token "
                         "itself (the value is not shown: it may be one)")
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class HubConfig(_Strict):
    """push_to_hub: set `repo_id` to upload the published layout (exactly the local files)."""

    repo_id: str | None = Field(None, description="e.g. my-org/my-synthetic-ir (None: no push)")
    private: bool = True
    token_env: str = Field("HF_TOKEN", description="environment variable holding the token; "
                           "the token is never written to a file, log or the card")
    revision: str | None = Field(None, description="branch to commit to (default: main)")
    commit_message: str = "synthir: publish dataset"

    @field_validator("token_env")
    @classmethod
    def _env_name(cls, value: str) -> str | None:
        return check_env_name(value)


class OutputConfig(_Strict):
    """Where the dataset (and the run's work files, under `.synthir/`) are written."""

    dir: Path = Path("out/run")
    corpus: Literal["full", "referenced"] = "full"
    license: str = "other"
    pretty_name: str | None = None
    dev_fraction: float = Field(0.0, ge=0.0, lt=1.0, description=(
        "share of source passages (with all their queries) put in a `dev` split of every "
        "config; assigned by a hash of the passage id, so it is stable across runs"))
    hub: HubConfig = HubConfig()


class ContaminationConfig(_Strict):
    """Drop generated queries/documents that near-duplicate an evaluation set's queries or
    documents (BEIR dirs: corpus.jsonl, queries.jsonl)."""

    beir_dirs: list[Path] = Field(default_factory=list)
    query_threshold: float = Field(90.0, ge=0, le=100, description="rapidfuzz ratio vs eval queries")
    document_threshold: float = Field(90.0, ge=0, le=100,
                                      description="rapidfuzz ratio vs eval corpus documents")


class ScheduleConfig(_Strict):
    """When `python -m flows.serve CONFIG` runs the job: a cron string or an interval."""

    cron: str | None = Field(None, description='e.g. "0 2 * * *" (02:00 every day)')
    interval_seconds: int | None = Field(None, ge=1)
    timezone: str = "UTC"

    @model_validator(mode="after")
    def _one(self) -> "ScheduleConfig":
        if self.cron and self.interval_seconds:
            raise ValueError("give schedule.cron or schedule.interval_seconds, not both")
        return self


class OrchestrationConfig(_Strict):
    """How the Prefect flow runs tasks (the plain `synthir run` ignores this)."""

    task_runner: Literal["thread", "dask", "ray"] = Field("thread", description=(
        "thread: one machine; dask (extra [dask]) / ray (extra [ray]): a cluster"))
    max_workers: int = Field(1, ge=1, description="thread workers, or local dask/ray workers")
    address: str | None = Field(None, description="existing dask scheduler / ray cluster address "
                                "(default: start a local one with max_workers)")
    retries: int = Field(1, ge=0, description="retries of a failed shard task (transient faults)")
    retry_delay_seconds: float = Field(5.0, ge=0)
    schedule: ScheduleConfig = ScheduleConfig()
