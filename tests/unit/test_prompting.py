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
    for lang in ("en", "fr", "es", "de"):
        rows, sha = lib.examples(f"query/examples/{lang}.jsonl")
        # the copy probe may retire half and prompts still draw 4 of 8 (stages/probe.py)
        assert len(rows) == 16 and len(sha) == 64
        assert len({r["query"] for r in rows}) == 16 and all(r["passage"].strip() for r in rows)


def test_template_outside_the_prompts_dir_is_refused_before_reading(tmp_path):
    root = tmp_path / "prompts"
    root.mkdir()
    (tmp_path / "secret.j2").write_text("{% if %}", encoding="utf-8")  # a syntax error if read
    (root / "inc.j2").write_text('{% include "../secret.j2" %}', encoding="utf-8")
    lib = PromptLibrary(root)
    for name in ("../secret.j2", str(tmp_path / "secret.j2"), "a/../../secret.j2", "inc.j2"):
        with pytest.raises(ConfigError, match="outside the prompts directory"):
            lib.template(name, set())
    with pytest.raises(ConfigError, match="outside the prompts directory"):
        lib.examples("../x.jsonl")


def test_undefined_attribute_of_an_object_is_caught_at_load(tmp_path):
    from synthir.generators.common import OBJECTS

    (tmp_path / "t.j2").write_text('{{ passage.text }} {% if x %}{{ passage["foo"] }}{% endif %}',
                                   encoding="utf-8")
    with pytest.raises(ConfigError, match=r"reads passage.foo, which is undefined; passage has \[.*'text'"):
        PromptLibrary(tmp_path).template("t.j2", {"passage", "x"}, OBJECTS)
    (tmp_path / "loop.j2").write_text("{% for passage in x %}{{ passage.query }}{% endfor %}", encoding="utf-8")
    PromptLibrary(tmp_path).template("loop.j2", {"passage", "x"}, OBJECTS)  # a loop variable: not checked


def test_render_error_is_a_one_line_config_error(tmp_path):
    (tmp_path / "t.j2").write_text("{% for ex in examples %}{{ ex.foo }}{% endfor %}", encoding="utf-8")
    tpl = PromptLibrary(tmp_path).template("t.j2", {"examples"})
    with pytest.raises(ConfigError, match="prompt template t.j2: 'dict object' has no attribute 'foo'"):
        tpl.render(examples=[{}])
