"""One line and a documented exit code instead of a traceback, for real `synthir` processes:
a template outside prompts/, an undefined template attribute, a corpus directory given a file
format, a read-only output dir, a token where an env var name belongs, and a run whose every
LLM call failed (exit 3; a server echoing the API key does not get it published)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from synthir.prompting import default_prompts_dir
from tests.reliability.conftest import job_sets, synthir

KEY = "sk-proj-5b6c7d8e9f0a1b2c3d4e"
TOKEN = "hf_Zq8mN3pL6vX1cR4tY7uI0oP2aS5dF9gH"


def one_line(result, code: int = 2) -> str:
    assert result.returncode == code, (result.returncode, result.stderr[-3000:])
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("synthir: error:"), result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    return lines[0]


def _run(corpus, server, out: Path, cache: Path, **sets):
    return synthir("run", "configs/demo.yaml", *job_sets(corpus, server, **sets), "--out", str(out),
                   "--no-progress", cache=cache)


@pytest.mark.parametrize("where", ["relative", "absolute"])
def test_template_outside_prompts_is_refused_unread(wiki_corpus, tmp_path, llm_server, where):
    server = llm_server()
    outside = tmp_path / "outside.j2"
    outside.write_text("{% if %} would be a syntax error if it were read", encoding="utf-8")
    name = os.path.relpath(outside, default_prompts_dir()) if where == "relative" else str(outside)
    line = one_line(_run(wiki_corpus, server, tmp_path / "out", tmp_path / "cache", **{
        "generation.queries": f"[{{method: promptagator, template: '{name}'}}]"}))
    assert "is outside the prompts directory" in line and "syntax" not in line
    assert server.requests == 0


def test_undefined_template_attribute_fails_before_any_llm_call(wiki_corpus, tmp_path, llm_server):
    server = llm_server()
    prompts = tmp_path / "prompts"
    shutil.copytree(default_prompts_dir(), prompts)
    tpl = prompts / "query" / "promptagator.j2"
    tpl.write_text(tpl.read_text(encoding="utf-8") + "{{ passage.foo }}\n", encoding="utf-8")
    line = one_line(_run(wiki_corpus, server, tmp_path / "out", tmp_path / "cache",
                         **{"generation.prompts_dir": prompts}))
    assert "reads passage.foo, which is undefined" in line
    assert server.requests == 0 and not (tmp_path / "out" / ".synthir" / "corpus.parquet").exists()


def test_corpus_directory_with_a_file_format(tmp_path, llm_server):
    server = llm_server()
    (tmp_path / "corpus").mkdir()
    line = one_line(_run(tmp_path / "corpus", server, tmp_path / "out", tmp_path / "cache",
                         **{"corpus.format": "jsonl"}))
    assert "is a directory, but corpus.format is jsonl" in line


def _read_only(path: Path) -> bool:
    """Make `path` read-only even for root (chattr +i) or by mode; False when impossible."""
    if os.geteuid() != 0:
        path.chmod(0o555)
        return True
    chattr = shutil.which("chattr")
    return bool(chattr) and subprocess.run([chattr, "+i", str(path)], capture_output=True).returncode == 0


def test_read_only_output_dir(wiki_corpus, tmp_path, llm_server):
    server = llm_server()
    out = tmp_path / "ro"
    out.mkdir()
    if not _read_only(out):
        pytest.skip("cannot make a directory read-only for root here (no chattr +i)")
    try:
        line = one_line(synthir("run", "configs/demo.yaml", *job_sets(wiki_corpus, server), "--out",
                                str(out / "run"), cache=tmp_path / "cache"))
    finally:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(out)], check=True)
        out.chmod(0o755)
    assert f"cannot write to output dir {out / 'run'}" in line
    assert server.requests == 0


def test_token_value_in_token_env_is_refused_without_printing_it(wiki_corpus, tmp_path, llm_server):
    server = llm_server()
    out = tmp_path / "out"
    result = _run(wiki_corpus, server, out, tmp_path / "cache", **{"output.hub.token_env": TOKEN})
    line = one_line(result)
    assert "output.hub.token_env: " in line and "must name an environment variable" in line
    assert TOKEN not in result.stderr + result.stdout and not (out / "README.md").exists()


def test_every_llm_call_failed_exits_3_and_the_echoed_key_is_not_published(wiki_corpus, tmp_path,
                                                                            llm_server, monkeypatch):
    server = llm_server(mode="echo", status=500)  # error bodies echo the Authorization header
    monkeypatch.setenv("SYNTHIR_TEST_KEY", KEY)
    out = tmp_path / "out"
    result = _run(wiki_corpus, server, out, tmp_path / "cache", **{"llm.api_key_env": "SYNTHIR_TEST_KEY"})
    line = one_line(result, code=3)
    assert "every LLM call failed: 4 of 4" in line and "HTTP 500" in line
    assert server.requests == 4 and all(a == f"Bearer {KEY}" for a in server.auth)  # sent, echoed
    rejected = pq.read_table(next((out / "data" / "rejected").glob("*.parquet"))).to_pylist()
    assert len(rejected) == 4 and all("Bearer ***" in r["detail"] for r in rejected)
    assert KEY not in result.stderr + result.stdout
    for p in [*out.rglob("*"), *(out / "data").rglob("*")]:
        if p.is_file():
            assert KEY.encode() not in p.read_bytes(), p
