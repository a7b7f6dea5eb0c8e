"""push_to_hub up to the network boundary: a recording `HfApi` subclass (only its network
methods overridden), the real `HfApi` against an unreachable endpoint and against a local HTTP
server that refuses the push. Nothing here contacts the Hugging Face Hub."""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx2
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi
from huggingface_hub import constants as hf_constants
from huggingface_hub.errors import RevisionNotFoundError

from data_schemas.run_options import HubConfig
from synthir.errors import ConfigError, HubError
from synthir.publish.hub import local_files, plan_operations, push_to_hub
from tests.hub_recorder import REMOTE, STALE, RecordingApi

SECRET = "hf_test_secret_7f3a9c2e41d0b865"
REPO = "my-org/synthetic-ir"
PARQUET = "data/pairs/train-00000-of-00001-0123456789ab.parquet"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A published layout: card, funnel, a real parquet, a BEIR file and `.synthir/` work files."""
    out = tmp_path / "run"
    (out / "data" / "pairs").mkdir(parents=True)
    table = pa.table({"query": ["what is a dense retriever?", "qu'est-ce que BM25 ?"],
                      "positive": ["A dense retriever embeds ...", "BM25 est une fonction ..."],
                      "lang": ["en", "fr"]})
    pq.write_table(table, out / PARQUET)
    (out / "README.md").write_text("---\nconfigs:\n- config_name: pairs\n  data_files:\n"
                                   f"  - split: train\n    path: {PARQUET}\n---\n# Synthetic IR\n",
                                   encoding="utf-8")
    (out / "funnel.json").write_text(json.dumps({"funnel": {"sampled": 2, "kept": 2}}))
    (out / "beir").mkdir()
    (out / "beir" / "queries.jsonl").write_text('{"_id": "q1", "text": "dense retriever"}\n')
    work = out / ".synthir"
    (work / "publish.tmp" / "data").mkdir(parents=True)
    (work / "state.json").write_text('{"stage": "publish"}')
    (work / "publish.tmp" / "data" / "x.parquet").write_bytes(b"PAR1 partial")
    (out / ".DS_Store").write_bytes(b"\0")
    return out


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def recorder(monkeypatch):
    RecordingApi.instances = []
    monkeypatch.setenv("HF_TOKEN", SECRET)
    return RecordingApi


def test_local_files_skip_dot_paths(root):
    assert local_files(root) == ["README.md", "beir/queries.jsonl", PARQUET, "funnel.json"]


def test_plan_adds_local_and_deletes_stale(root):
    ops = plan_operations(root, REMOTE + ["beir/old.jsonl"])
    adds = [op.path_in_repo for op in ops if isinstance(op, CommitOperationAdd)]
    deletes = [op.path_in_repo for op in ops if isinstance(op, CommitOperationDelete)]
    assert adds == local_files(root)
    assert deletes == ["beir/old.jsonl", STALE]


def test_push_commits_exactly_the_local_layout(root, recorder):
    before = snapshot(root)
    hub = HubConfig(repo_id=REPO, private=True)
    summary = push_to_hub(root, hub, api_factory=recorder)

    (api,) = recorder.instances
    assert [name for name, _, _ in api.calls] == ["create_repo", "list_repo_files",
                                                  "create_commit"]
    (create,) = api.named("create_repo")
    assert create == {"repo_type": "dataset", "private": True, "exist_ok": True}
    assert api.calls[0][1] == (REPO,)
    assert api.named("list_repo_files") == [{"repo_type": "dataset", "revision": None}]
    (commit,) = api.named("create_commit")
    assert api.calls[2][1] == (REPO,)
    assert commit["repo_type"] == "dataset" and commit["revision"] is None
    assert commit["commit_message"] == hub.commit_message

    ops = commit["operations"]
    adds = [op.path_in_repo for op in ops if isinstance(op, CommitOperationAdd)]
    deletes = [op.path_in_repo for op in ops if isinstance(op, CommitOperationDelete)]
    expected = sorted(k for k in before if not any(p.startswith(".") for p in k.split("/")))
    assert adds == expected == local_files(root)
    assert commit["contents"] == {k: before[k] for k in expected}
    assert pq.read_table(root / PARQUET).num_rows == 2
    assert deletes == [STALE]  # .gitattributes stays
    assert not [p for p in adds + deletes if ".synthir" in p or p.startswith(".")]

    assert summary["added"] == 4 and summary["deleted"] == 1
    assert summary["repo_url"] == f"https://huggingface.co/datasets/{REPO}"
    assert summary["commit_oid"] == "abc123" and summary["private"] is True
    assert snapshot(root) == before


def test_public_repo_and_new_branch(root, recorder):
    missing = RevisionNotFoundError(
        "404 Revision Not Found", response=httpx2.Response(
            404, request=httpx2.Request("GET", "http://hub.invalid/api/datasets/x/tree/v2")))

    def factory(**kw):
        return recorder(remote=missing, **kw)

    summary = push_to_hub(root, HubConfig(repo_id=REPO, private=False, revision="v2"),
                          api_factory=factory)
    (api,) = recorder.instances
    assert api.named("create_repo")[0]["private"] is False
    assert api.named("create_branch") == [{"branch": "v2", "repo_type": "dataset",
                                           "exist_ok": True}]
    (commit,) = api.named("create_commit")
    assert commit["revision"] == "v2"
    assert not [op for op in commit["operations"] if isinstance(op, CommitOperationDelete)]
    assert summary["revision"] == "v2" and summary["deleted"] == 0


def test_token_never_leaks(root, recorder, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    summary = push_to_hub(root, HubConfig(repo_id=REPO), api_factory=recorder)

    (api,) = recorder.instances
    assert api.token == SECRET  # the client did get it, through the factory
    assert caplog.records and any(REPO in r.getMessage() for r in caplog.records)
    for record in caplog.records:
        assert SECRET not in record.getMessage() and SECRET not in repr(record.args)
    assert SECRET not in caplog.text
    out, err = capsys.readouterr()
    assert SECRET not in out + err
    assert SECRET not in repr(summary) and SECRET not in json.dumps(summary)
    for path in root.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path


def test_client_error_is_one_masked_line_and_nothing_committed(root, recorder):
    boom = ConnectionError(f"connection reset\nwhile sending Bearer {SECRET}")
    with pytest.raises(HubError) as info:
        push_to_hub(root, HubConfig(repo_id=REPO),
                    api_factory=lambda **kw: recorder(remote=boom, **kw))
    message = str(info.value)
    assert message.startswith(f"push to {REPO} failed while listing the remote files: "
                              "ConnectionError: connection reset")
    assert SECRET not in message and "***" in message and "\n" not in message
    assert recorder.instances[0].named("create_commit") == []


def test_missing_token_env_var(root, monkeypatch):
    monkeypatch.delenv("MY_HF_WRITE_TOKEN", raising=False)
    RecordingApi.instances = []
    with pytest.raises(HubError, match="MY_HF_WRITE_TOKEN"):
        push_to_hub(root, HubConfig(repo_id=REPO, token_env="MY_HF_WRITE_TOKEN"),
                    api_factory=RecordingApi)
    assert RecordingApi.instances == []  # no client was built


def test_no_repo_id_or_no_dataset(root, tmp_path, recorder):
    with pytest.raises(ConfigError, match="output.hub.repo_id"):
        push_to_hub(root, HubConfig(), api_factory=recorder)
    with pytest.raises(HubError, match="no published dataset"):
        push_to_hub(tmp_path / "empty", HubConfig(repo_id=REPO), api_factory=recorder)


@pytest.fixture
def online(monkeypatch):
    """The real client allowed to make requests (conftest sets HF_HUB_OFFLINE=1)."""
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv("HF_TOKEN", SECRET)


def test_unreachable_endpoint_is_a_hub_error(root, online, caplog):
    caplog.set_level(logging.DEBUG)
    before = snapshot(root)
    with pytest.raises(HubError) as info:
        push_to_hub(root, HubConfig(repo_id=REPO),
                    api_factory=lambda token: HfApi(endpoint="http://127.0.0.1:9", token=token))
    message = str(info.value)
    assert REPO in message and "creating the repo" in message and "\n" not in message
    assert SECRET not in message and SECRET not in caplog.text
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert snapshot(root) == before


def test_offline_mode_is_a_hub_error(root, monkeypatch):
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setenv("HF_TOKEN", SECRET)
    with pytest.raises(HubError, match="offline"):
        push_to_hub(root, HubConfig(repo_id=REPO))


def test_http_error_echoing_the_token_is_masked(root, online):
    """A server that refuses the push and echoes the Authorization header in its error."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            auth = self.headers.get("Authorization", "")
            seen.append(auth)
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = json.dumps({"error": f"Invalid credentials: {auth}"}).encode()
            self.send_response(401)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{server.server_port}"
    before = snapshot(root)
    try:
        with pytest.raises(HubError) as info:
            push_to_hub(root, HubConfig(repo_id=REPO),
                        api_factory=lambda token: HfApi(endpoint=endpoint, token=token))
    finally:
        server.shutdown()
        server.server_close()
    message = str(info.value)
    assert seen == [f"Bearer {SECRET}"]  # the token did reach the (fake) hub
    assert "401" in message and "Invalid credentials" in message and "***" in message
    assert SECRET not in message and "\n" not in message
    assert snapshot(root) == before
