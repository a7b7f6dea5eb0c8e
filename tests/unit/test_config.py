from pathlib import Path

import pytest

from synthir.cli import main
from synthir.config import apply_overrides, load_config, parse_override
from synthir.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "configs" / "demo.yaml"


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "cfg.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_demo_config_loads_with_required_keys():
    cfg = load_config(DEMO)
    assert cfg.corpus.fields.id == "id" and cfg.corpus.fields.text == "text"
    assert cfg.corpus.fields.title == "title" and cfg.corpus.fields.lang == "lang"
    assert cfg.sample.n == 40 and cfg.languages == ["en", "fr"]
    assert cfg.llm.backend == "transformers" and cfg.llm.model == "embedded"
    assert cfg.roundtrip.top_k >= 1 and cfg.output.dir == Path("out/demo")


def test_set_values_are_yaml_and_out_sets_output_dir():
    cfg = load_config(DEMO, ["languages=[fr, en]", "sample.n=7", "roundtrip.top_k=3"], out="x y/z")
    assert cfg.languages == ["fr", "en"]
    assert cfg.sample.n == 7 and cfg.roundtrip.top_k == 3
    assert cfg.output.dir == Path("x y/z")


def test_unknown_key_is_named(tmp_path):
    p = write(tmp_path, "corpus: {path: c.jsonl}\nllm: {backnd: transformers}\n")
    with pytest.raises(ConfigError, match=r"llm\.backnd: unknown key"):
        load_config(p)


def test_bad_value_is_named():
    with pytest.raises(ConfigError, match=r"sample\.n"):
        load_config(DEMO, ["sample.n=0"])
    with pytest.raises(ConfigError, match=r"roundtrip\.top_k"):
        load_config(DEMO, ["roundtrip.top_k=many"])


def test_unknown_language_and_backend():
    with pytest.raises(ConfigError, match=r"languages.*'xx'"):
        load_config(DEMO, ["languages=[en, xx]"])
    with pytest.raises(ConfigError, match=r"llm\.backend: unknown backend 'nope'"):
        load_config(DEMO, ["llm.backend=nope"])


def test_missing_corpus_path_key(tmp_path):
    with pytest.raises(ConfigError, match=r"corpus: Field required"):
        load_config(write(tmp_path, "name: x\n"))


def test_missing_and_invalid_files(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(write(tmp_path, "a: [\n"))
    with pytest.raises(ConfigError, match="mapping"):
        load_config(write(tmp_path, "- 1\n- 2\n"))


def test_override_parsing_errors():
    with pytest.raises(ConfigError, match="expected dotted.key=value"):
        parse_override("sample.n")
    with pytest.raises(ConfigError, match="empty key"):
        parse_override("a..b=1")
    with pytest.raises(ConfigError, match="not a mapping"):
        apply_overrides({"sample": 3}, ["sample.n=1"])


def test_cli_config_error_exits_2_with_one_line(capsys):
    rc = main(["run", str(DEMO), "--set", "llm.temprature=0.5"])
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert len(err.splitlines()) == 1
    assert "llm.temprature: unknown key" in err


def test_cli_missing_corpus_exits_2(tmp_path, capsys):
    rc = main(["run", str(DEMO), "--set", f"corpus.path={tmp_path / 'none.jsonl'}",
               "--out", str(tmp_path / "out"), "--no-progress"])
    assert rc == 2
    assert "corpus not found" in capsys.readouterr().err
