"""The real `HfApi` with only its network methods replaced by recorders and scripted replies:
push_to_hub is exercised up to the network boundary, and nothing contacts the Hub."""

from __future__ import annotations

from typing import ClassVar

from huggingface_hub import CommitOperationAdd, HfApi
from huggingface_hub.hf_api import CommitInfo, RepoUrl

STALE = "data/pairs/train-00000-of-00001-oldhash.parquet"
REMOTE = [".gitattributes", "README.md", "funnel.json", STALE]


class RecordingApi(HfApi):
    """The real client with its network methods replaced by recorders and scripted replies."""

    instances: ClassVar[list[RecordingApi]] = []

    def __init__(self, remote: list[str] | Exception = REMOTE, **kwargs):
        super().__init__(**kwargs)
        self.remote = remote
        self.calls: list[tuple[str, tuple, dict]] = []
        self.instances.append(self)

    def create_repo(self, repo_id, **kwargs):
        self.calls.append(("create_repo", (repo_id,), kwargs))
        return RepoUrl(f"https://huggingface.co/datasets/{repo_id}")

    def list_repo_files(self, repo_id, **kwargs):
        self.calls.append(("list_repo_files", (repo_id,), kwargs))
        if isinstance(self.remote, Exception):
            raise self.remote
        return list(self.remote)

    def create_branch(self, repo_id, **kwargs):
        self.calls.append(("create_branch", (repo_id,), kwargs))

    def create_commit(self, repo_id, operations, **kwargs):
        ops = list(operations)
        contents = {}
        for op in ops:
            if isinstance(op, CommitOperationAdd):
                with op.as_file() as fh:
                    contents[op.path_in_repo] = fh.read()
        self.calls.append(("create_commit", (repo_id,), dict(kwargs, operations=ops,
                                                            contents=contents)))
        return CommitInfo(commit_url=f"https://huggingface.co/datasets/{repo_id}/commit/abc123",
                          commit_message=kwargs["commit_message"], commit_description="",
                          oid="abc123")

    def named(self, name: str) -> list[dict]:
        return [kw for n, _, kw in self.calls if n == name]
