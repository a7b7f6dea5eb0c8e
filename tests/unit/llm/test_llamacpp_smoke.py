"""`smoke_check`: the setup-time llama.cpp check runs in a child process and maps its fate to
None or a one-line reason (a SIGILL build gets the portable-rebuild fix)."""

from __future__ import annotations

import pytest

from synthir.llm import llamacpp_backend
from synthir.llm.llamacpp_backend import smoke_check


def test_sigill_child_gives_the_rebuild_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    # A real child process killed by a real SIGILL, as a native build on the wrong CPU is.
    monkeypatch.setattr(llamacpp_backend, "SMOKE", "import os, signal\nos.kill(os.getpid(), signal.SIGILL)\n")
    problem = smoke_check("unused.gguf")
    assert problem is not None and "Illegal instruction" in problem
    assert "GGML_NATIVE=OFF" in problem and "\n" not in problem


def test_failing_child_gives_its_last_error_line(tmp_path) -> None:
    pytest.importorskip("llama_cpp")
    problem = smoke_check(str(tmp_path / "missing.gguf"))
    assert problem is not None and problem.startswith("llama.cpp failed to decode:")
    assert "\n" not in problem


def test_embedded_model_decodes_here() -> None:
    pytest.importorskip("llama_cpp")
    from synthir.llm.models import embedded_gguf

    path, _ = embedded_gguf()
    assert smoke_check(str(path)) is None


def test_setup_stops_with_one_line_when_llama_cpp_cannot_decode(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    pytest.importorskip("llama_cpp")
    from synthir import cli

    monkeypatch.setattr(llamacpp_backend, "smoke_check", lambda path: "llama.cpp was compiled for CPU instructions")
    assert cli.main(["setup"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "error: llama.cpp was compiled for CPU instructions"


def test_a_missing_gguf_is_a_one_line_config_error(tmp_path, capsys) -> None:
    """`llm.model` naming no file: `synthir examples --summarize` (and `synthir run`, which
    builds the backend the same way) print one line and exit 2, not a traceback."""
    pytest.importorskip("llama_cpp")
    from data_schemas.config import LLMConfig
    from synthir.cli import main
    from synthir.errors import ConfigError
    from synthir.llm.llamacpp_backend import LlamaCppLLM
    from synthir.io.beir import write_beir

    with pytest.raises(ConfigError, match=r"^llm.model: GGUF file not found: .*nope.gguf \(give a .gguf path"):
        LlamaCppLLM(LLMConfig(backend="llamacpp", model=str(tmp_path / "nope.gguf")))
    write_beir(tmp_path / "b", [{"_id": f"d{i}", "title": "", "text": f"Seite {i} über Drucker"} for i in range(4)],
               [{"_id": f"q{i}", "text": f"Drucker {i}", "lang": "de"} for i in range(4)],
               {"test": [(f"q{i}", f"d{i}", 1) for i in range(4)]})
    recipe = tmp_path / "r.yaml"
    recipe.write_text(f"corpus: {{path: {tmp_path / 'b' / 'corpus.jsonl'}}}\nllm: {{backend: llamacpp, model: {tmp_path / 'nope.gguf'}}}\n")
    assert main(["examples", str(tmp_path / "b"), "--n", "1", "--out", str(tmp_path / "ex.jsonl"),
                 "--summarize", str(recipe)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("synthir: error: llm.model: GGUF file not found") and err.count("\n") == 1
