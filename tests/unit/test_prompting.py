import hashlib

import jinja2
import pytest

from synthir.errors import ConfigError
from synthir.prompting import PromptLibrary, default_prompts_dir


def test_template_sha_and_strict_undefined(tmp_path):
    (tmp_path / "t.j2").write_text("Hello {{ name }} {{ x.missing }}", encoding="utf-8")
    lib = PromptLibrary(tmp_path)
    tpl = lib.template("t.j2", {"name", "x"})
    assert tpl.sha256 == hashlib.sha256(b"Hello {{ name }} {{ x.missing }}").hexdigest()
    with pytest.raises(jinja2.UndefinedError):
        tpl.render(name="a", x={})


def test_unknown_variable_is_caught_at_load(tmp_path):
    (tmp_path / "t.j2").write_text("{{ passage.text }} {{ typo_var }}", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"undefined variables \['typo_var'\]"):
        PromptLibrary(tmp_path).template("t.j2", {"passage"})


def test_missing_files_and_bad_examples(tmp_path):
    lib = PromptLibrary(tmp_path)
    with pytest.raises(ConfigError, match="template not found"):
        lib.template("nope.j2", set())
    (tmp_path / "ex.jsonl").write_text('{"passage": "p", "query": "q"}\n[1]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="ex.jsonl:2"):
        lib.examples("ex.jsonl")
    with pytest.raises(ConfigError, match="prompts directory not found"):
        PromptLibrary(tmp_path / "nope")


def test_repo_prompts_load():
    from synthir.generators.queries import PROVIDED

    lib = PromptLibrary(default_prompts_dir())
    tpl = lib.template("query/promptagator.j2", PROVIDED)
    assert "passage" in tpl.variables
    for lang in ("en", "fr", "es"):
        rows, sha = lib.examples(f"query/examples/{lang}.jsonl")
        assert 3 <= len(rows) <= 8 and len(sha) == 64
