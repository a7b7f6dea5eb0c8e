"""Push a published dataset dir to the Hugging Face Hub so that the hub copy equals it exactly.

Every file under the dir is uploaded in ONE commit, except dot paths (`.synthir/` holds the
run's work files); remote files the local layout no longer has (e.g. parquet files named by an
old content hash) are deleted in the same commit. Remote dot paths (`.gitattributes`) are kept.
The token comes from the env var `hub.token_env`: it is never logged, returned or written, and
any error of the hub client becomes a one-line `HubError`; the local dir is only read.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi
from huggingface_hub.errors import RemoteEntryNotFoundError, RevisionNotFoundError

from data_schemas.run_options import HubConfig
from synthir.errors import ConfigError, HubError
from synthir.redact import redact, register

log = logging.getLogger(__name__)
REPO_TYPE = "dataset"
Operation = CommitOperationAdd | CommitOperationDelete


def _is_dot(rel: str) -> bool:
    return any(part.startswith(".") for part in rel.split("/"))


def local_files(root: Path) -> list[str]:
    """The files of the dataset dir `root` to upload.

    Returns repo-relative posix paths (`README.md`, `data/pairs/train-....parquet`), sorted.
    Paths with a component starting with `.` (`.synthir/`, `.cache/`, `.DS_Store`) are skipped.
    """
    root = Path(root)
    out: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):  # data/ is a link
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]  # never walk into dot dirs
        base = Path(dirpath).relative_to(root)
        for name in filenames:
            if not name.startswith(".") and (Path(dirpath) / name).is_file():
                out.append((base / name).as_posix())
    return sorted(out)


def plan_operations(root: Path, remote_files: list[str]) -> list[Operation]:
    """The operations that make the remote repo equal the local dir `root`.

    Inputs: the dataset dir and the remote repo's file paths. Returns one `CommitOperationAdd`
    per local file (path_in_repo = its relative path; content read from disk), then one
    `CommitOperationDelete` per remote file that is not local, remote dot paths excepted.
    """
    root = Path(root)
    local = local_files(root)
    ops: list[Operation] = [
        CommitOperationAdd(path_in_repo=rel, path_or_fileobj=str(root / rel)) for rel in local]
    keep = set(local)
    ops += [CommitOperationDelete(path_in_repo=rel) for rel in sorted(set(remote_files))
            if rel not in keep and not _is_dot(rel)]
    return ops


def _one_line(exc: BaseException, token: str) -> str:
    """`Type: message` on one line, at most 400 chars, with the token (if any) masked."""
    text = " ".join(f"{type(exc).__name__}: {exc}".split())
    return redact(text, extra=[token])[:400]


def push_to_hub(root: Path, hub: HubConfig,
                api_factory: Callable[..., HfApi] | None = None) -> dict[str, Any]:
    """Upload the published dataset dir `root` to the dataset repo `hub.repo_id`.

    Inputs: the dataset dir, `output.hub` settings and a factory called as
    `api_factory(token=...)` (default: `HfApi`; tests pass a recording client). Creates the repo if missing
    (`hub.private`), then makes ONE commit on `hub.revision` (branch created if missing) that
    adds every local file and deletes stale remote ones. Returns a summary without the token:
    repo_id, repo_url, revision, private, commit_url, commit_oid, added, deleted.
    Raises ConfigError (no repo_id) or HubError (no published dataset, token env var unset,
    any error of the hub client).
    """
    root = Path(root)
    repo_id = hub.repo_id
    if not repo_id:
        raise ConfigError("output.hub.repo_id is not set: no repo to push to")
    if not (root / "README.md").is_file():
        raise HubError(f"{root} holds no published dataset (no README.md): nothing to push")
    token = os.environ.get(hub.token_env, "")
    register(token)  # masked in every later message and log line
    if not token:
        raise HubError(f"environment variable {hub.token_env} is not set (or empty): "
                       f"put a Hugging Face write token in it to push to {repo_id}")

    def call(what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - any hub client error: network, HTTP, offline
            # `from None`: the original exception's text is not re-printed unmasked.
            raise HubError(f"push to {repo_id} failed while {what}: "
                           f"{_one_line(exc, token)}") from None

    api = call("creating the hub client", api_factory or HfApi, token=token)
    repo_url = call("creating the repo", api.create_repo, repo_id, repo_type=REPO_TYPE,
                    private=hub.private, exist_ok=True)

    def remote_files() -> list[str]:
        try:
            return list(api.list_repo_files(repo_id, repo_type=REPO_TYPE, revision=hub.revision))
        except (RevisionNotFoundError, RemoteEntryNotFoundError):  # empty repo or new branch
            if hub.revision:
                api.create_branch(repo_id, branch=hub.revision, repo_type=REPO_TYPE,
                                  exist_ok=True)
            return []

    remote = call("listing the remote files", remote_files)
    ops = plan_operations(root, remote)
    added = sum(isinstance(op, CommitOperationAdd) for op in ops)
    deleted = len(ops) - added
    revision = hub.revision or "main"
    log.info("pushing %s to dataset %s@%s: %d files to upload, %d stale remote files to delete",
             root, repo_id, revision, added, deleted)
    info = call("committing", api.create_commit, repo_id=repo_id, repo_type=REPO_TYPE,
                operations=ops, commit_message=hub.commit_message, revision=hub.revision)
    summary = {
        "repo_id": repo_id, "repo_url": str(repo_url), "revision": revision,
        "private": hub.private, "commit_url": str(getattr(info, "commit_url", info)),
        "commit_oid": getattr(info, "oid", None), "added": added, "deleted": deleted,
    }
    log.info("pushed dataset %s@%s: commit %s", repo_id, revision, summary["commit_url"])
    return summary
