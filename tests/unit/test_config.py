import re
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
    assert cfg.llm.backend == "llamacpp" and cfg.llm.model == "embedded"
    assert cfg.generation.queries[0].num_queries == 8 and cfg.llm.temperature > 0  # sample, then filter
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


@pytest.mark.parametrize("path", sorted((REPO / "configs").glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_config_loads_with_its_prompts(path):
    from synthir.generators import prompt_files

    cfg = load_config(path)
    files = prompt_files(cfg)  # loads and variable-checks every template and example file
    for q in cfg.generation.queries:
        assert any(f.startswith({"promptagator": "query/", "sap": "sap/"}[q.method]) for f in files)
    assert all(len(sha) == 64 for sha in files.values())


def test_method_config_errors_name_the_key():
    with pytest.raises(ConfigError, match=r"llm: Value error, backend openai needs llm.base_url"):
        load_config(DEMO, ["llm.backend=openai", "llm.model=m"])
    with pytest.raises(ConfigError, match=r"num_queries > 1 needs llm.temperature > 0"):
        load_config(DEMO, ["llm.temperature=0", "generation.queries=[{method: promptagator, num_queries: 3}]"])
    with pytest.raises(ConfigError, match=r"generation.queries\[0\].*structured output is available "
                                          r"for method sap only"):
        load_config(DEMO, ["generation.queries=[{method: promptagator, structured: true}]"])
    with pytest.raises(ConfigError, match=r"generation.documents\[0\].levels"):
        load_config(DEMO, ["generation.documents=[{method: graded, levels: [4]}]"])
    with pytest.raises(ConfigError, match=r"generation.documents\[0\].method"):
        load_config(DEMO, ["generation.documents=[{method: summary}]"])
    with pytest.raises(ConfigError, match=r"two identical entries"):
        load_config(DEMO, ["generation.queries=[{method: sap}, {method: sap}]"])


def test_missing_optional_backend_package_is_a_config_error(monkeypatch):
    import builtins

    from data_schemas.config import LLMConfig
    from synthir.llm.registry import get_llm

    real_import = builtins.__import__

    def no_vllm(name, *args, **kw):
        if name == "vllm" or name.startswith("vllm."):
            raise ImportError("No module named 'vllm'", name="vllm")
        return real_import(name, *args, **kw)

    monkeypatch.setattr(builtins, "__import__", no_vllm)
    with pytest.raises(ConfigError, match=r"needs a package that is not installed: vllm "
                                          r"\(pip install 'synthir\[vllm\]'\)"):
        get_llm(LLMConfig(backend="vllm", model="/m"), reuse=False)


def test_backend_options_are_selected_by_llm_backend():
    """A backend-specific key set for a backend that does not take it is one config error;
    each backend's own options are read from the flat `llm` section."""
    from synthir.llm.registry import backend_options

    with pytest.raises(ConfigError, match=r"llm.base_url: not an option of the llamacpp backend "
                                          r"\(its own options: context_length, gguf_file, parallel_samples, "
                                          r"prompt_block, threads\)"):
        load_config(DEMO, ["llm.backend=llamacpp", "llm.base_url=http://127.0.0.1:1/v1"])
    with pytest.raises(ConfigError, match=r"llm.threads: not an option of the openai backend"):
        load_config(DEMO, ["llm.backend=openai", "llm.model=m", "llm.base_url=http://127.0.0.1:1/v1",
                           "llm.threads=2"])
    cfg = load_config(DEMO, ["llm.backend=vllm", "llm.tensor_parallel_size=2"])
    opts = backend_options("vllm").of(cfg.llm)
    assert opts.tensor_parallel_size == 2 and opts.context_length == cfg.llm.context_length
    assert set(backend_options("openai").model_fields) == {
        "base_url", "api_key_env", "max_concurrency", "timeout_s", "max_retries", "server"}


def test_set_list_indexes():
    cfg = load_config(DEMO, ["generation.queries[0].num_queries=8", "llm.temperature=0.7",
                             "generation.queries[1].method=sap", "generation.documents[0].method=hyde"])
    assert cfg.generation.queries[0].num_queries == 8 and cfg.generation.queries[0].num_examples == 4
    assert [q.method for q in cfg.generation.queries] == ["promptagator", "sap"]
    assert [d.method for d in cfg.generation.documents] == ["hyde"]
    with pytest.raises(ConfigError, match=r"generation.queries has 1 entries; index \[3\] is out of range"):
        apply_overrides({"generation": {"queries": [{}]}}, ["generation.queries[3].num_queries=2"])
    with pytest.raises(ConfigError, match="is not a list"):
        apply_overrides({"sample": {"n": 1}}, ["sample[0]=1"])
    with pytest.raises(ConfigError, match="malformed key"):
        parse_override("generation.queries[x].n=1")
    with pytest.raises(ConfigError, match=r"generation.queries is a list; index it as generation.queries\[0\]$"):
        apply_overrides({"generation": {"queries": [{}]}}, ["generation.queries.0.num_queries=2"])


def test_language_codes_normalised_on_the_config_side():
    cfg = load_config(DEMO, ["languages=[EN, fr-FR]", "sample.languages=[pt_BR, EN]",
                             "corpus.default_lang=DE"])
    assert cfg.languages == ["en", "fr"] and cfg.sample.languages == ["pt", "en"]
    assert cfg.corpus.default_lang == "de"
    with pytest.raises(ConfigError, match="duplicate language codes"):
        load_config(DEMO, ["languages=[en, EN-us]"])
    with pytest.raises(ConfigError, match=r"languages.*'xx-YY'"):
        load_config(DEMO, ["languages=[xx-YY]"])


@pytest.mark.parametrize("key,value", [("generation.queries[0].template", "/etc/passwd"),
                                       ("generation.queries[0].examples_dir", "../../secrets"),
                                       ("generation.documents[0].template", "documents/../../x.j2")])
def test_prompt_paths_must_stay_inside_the_prompts_dir(key, value, capsys):
    sets = ["generation.documents[0].method=graded"] if "documents" in key else []
    rc = main(["run", str(DEMO), *[a for s in sets for a in ("--set", s)], "--set", f"{key}={value}"])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1
    assert key in err and "is outside the prompts directory" in err


def test_prompt_library_refuses_a_symlink_out_before_reading(tmp_path):
    from synthir.prompting import PromptLibrary

    root = tmp_path / "prompts"
    (root / "query").mkdir(parents=True)
    secret = tmp_path / "secret.j2"
    secret.write_text("{{ passage }}")
    (root / "query" / "link.j2").symlink_to(secret)
    lib = PromptLibrary(root)
    with pytest.raises(ConfigError, match="outside the prompts dir"):
        lib.template("query/link.j2", {"passage"})
    with pytest.raises(ConfigError, match="outside the prompts dir"):
        lib.examples("../secret.j2")


def test_env_keys_must_name_variables_and_never_echo_a_token(capsys):
    from synthir.cli import main

    token = "hf_Xy7pQ2mN9vB4cL1kJ8hG3fD6sA0zW5eR"
    for key, value in (("output.hub.token_env", token), ("llm.api_key_env", "sk-" + "a1B2c3" * 4),
                       ("output.hub.token_env", "HF TOKEN")):
        with pytest.raises(ConfigError, match=f"{key}: .*must name an environment variable") as err:
            load_config(REPO / "configs" / "demo.yaml", [f"{key}={value}"])
        assert value not in str(err.value)
    assert load_config(REPO / "configs" / "demo.yaml", ["output.hub.token_env=MY_ORG_HF_TOKEN_2"])
    assert main(["run", str(REPO / "configs" / "demo.yaml"), "--set", f"output.hub.token_env={token}"]) == 2
    err = capsys.readouterr().err
    assert token not in err and len(err.strip().splitlines()) == 1


def test_fingerprint_ignores_options_left_at_their_default(tmp_path):
    """A release that adds an option with a default resumes the previous release's runs."""
    from data_schemas.config import RunConfig
    from synthir.rundir import config_fingerprint

    base = {"corpus": {"path": str(tmp_path / "c.jsonl")}, "output": {"dir": str(tmp_path / "o")}}
    cfg = RunConfig.model_validate(base)
    same = RunConfig.model_validate({**base, "roundtrip": {"top_k": 1, "keep_per_passage": None}})
    other = RunConfig.model_validate({**base, "roundtrip": {"top_k": 5}})
    assert config_fingerprint(cfg) == config_fingerprint(same) != config_fingerprint(other)


def test_judge_target_budget_keys_are_validated_in_one_line(tmp_path):
    base = ["corpus.path=c.jsonl"]
    cfg = load_config(DEMO, base + ["judge.enabled=true", "judge.candidates=5", "judge.relabel=add",
                                    "target.kept_pairs={en: 50, fr: 20}", "budget.max_tokens=1000",
                                    "llm.price.input_per_mtok=0.2", "budget.max_cost=1.5"])
    assert cfg.judge.candidates == 5 and cfg.target.kept_pairs == {"en": 50, "fr": 20}
    assert cfg.llm.price.input_per_mtok == 0.2 and cfg.budget.max_cost == 1.5
    bad = {"judge.relabel=swap": r"judge\.relabel", "judge.candidates=-1": r"judge\.candidates",
           "judge.yes_no_cuts=[0.5, 0.2, 0.9]": "yes_no_cuts must be 3 increasing",
           "target.kept_pairs=0": "kept_pairs must be >= 1", "target.kept_pairs={de: 5}": r"\['de'\] not in languages",
           "budget.max_cost=2": "budget.max_cost needs llm.price", "budget.max_hours=0": r"budget\.max_hours",
           "judge.prejudge.scorer=cross": r"judge\.prejudge\.scorer", "budget.max_tokenz=5": "unknown key"}
    for item, message in bad.items():
        with pytest.raises(ConfigError, match=message):
            load_config(DEMO, base + [item])
    with pytest.raises(ConfigError, match="judge.kind yes_no needs next-token log-probs"):
        load_config(DEMO, base + ["judge.enabled=true", "judge.kind=yes_no", "judge.llm={backend: openai, "
                                  "base_url: 'http://127.0.0.1:9/v1', model: m}"])
    with pytest.raises(ConfigError, match=r"judge\.llm\.base_url: not an option of the llamacpp backend"):
        load_config(DEMO, base + ["judge.llm={backend: llamacpp, base_url: 'http://x/v1'}"])


def test_fingerprint_leaves_out_target_budget_and_prices(tmp_path):
    """Raising the target or the budget (or a new price) continues the same run."""
    from synthir.rundir import config_fingerprint

    base = [f"corpus.path={tmp_path / 'c.jsonl'}"]
    fp = config_fingerprint(load_config(DEMO, base))
    assert fp == config_fingerprint(load_config(DEMO, base + ["target.kept_pairs=100", "budget.max_tokens=5",
                                                               "llm.price.output_per_mtok=3"]))
    assert fp != config_fingerprint(load_config(DEMO, base + ["judge.enabled=true"]))


def test_extends_merges_mappings_replaces_lists_and_follows_a_chain(tmp_path):
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "root.yaml").write_text(DEMO.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "base" / "mid.yaml").write_text(
        "extends: root.yaml\nname: mid\nllm: {temperature: 0.3}\nsample: {n: 5}\n", encoding="utf-8")
    child = tmp_path / "child.yaml"  # a path relative to the extending file's own folder
    child.write_text("extends: base/mid.yaml\nname: child\nlanguages: [de]\n"
                     "generation:\n  queries:\n    - {method: promptagator, num_queries: 2}\n", encoding="utf-8")
    cfg = load_config(child, ["sample.n=6"])
    demo = load_config(DEMO)
    assert cfg.name == "child" and cfg.languages == ["de"] and cfg.sample.n == 6  # --set applies last
    assert cfg.llm.temperature == 0.3 and cfg.llm.model == demo.llm.model  # mapping merged key by key
    assert cfg.sample.seed == demo.sample.seed
    q, demo_q = cfg.generation.queries[0], demo.generation.queries[0]
    assert len(cfg.generation.queries) == 1 and q.num_queries == 2
    assert demo_q.copy_penalty == 5 and not q.copy_penalty  # the list entry replaced whole, not merged


@pytest.mark.parametrize("text, message", [
    ("extends: self.yaml\nname: x\n", "makes a cycle (self.yaml -> self.yaml)"),
    ("extends: missing.yaml\n", "config file not found"),
    ("extends: [a.yaml]\n", "extends must be the path of another config file"),
])
def test_bad_extends_is_a_one_line_config_error(tmp_path, capsys, text, message):
    p = tmp_path / "self.yaml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config(p)
    assert main(["run", str(p)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err


def test_extends_cycle_through_two_files(tmp_path):
    (tmp_path / "a.yaml").write_text("extends: b.yaml\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape("a.yaml -> b.yaml -> a.yaml")):
        load_config(tmp_path / "a.yaml")


def test_fixed_prompt_config_is_copy_penalty_plus_its_five_keys():
    """What configs/downstream_fixed_prompt.yaml's comment promises (docs/results.md §8t/§8u)."""
    fixed = load_config(REPO / "configs" / "downstream_fixed_prompt.yaml").model_dump()
    overrides = ["llm.api=chat", "llm.model=embedded-instruct-1.5b", "llm.prompt_block=256",
                 "generation.queries[0].example_selection=first", "generation.queries[0].num_examples=8"]
    base = load_config(REPO / "configs" / "downstream_copy_penalty.yaml", overrides).model_dump()
    assert fixed.pop("name") == "downstream-fixed-prompt" and base.pop("name") == "downstream-copy-penalty"
    assert fixed == base


def test_short_form_config_is_fixed_prompt_plus_its_task():
    """What configs/downstream_short_form.yaml's comment promises (docs/results.md §8ak)."""
    short = load_config(REPO / "configs" / "downstream_short_form.yaml").model_dump()
    task = short["generation"]["queries"][0]["task"]
    assert "not a question" in task and "like the examples" in task
    base = load_config(REPO / "configs" / "downstream_fixed_prompt.yaml",
                       [f"generation.queries[0].task={task}"]).model_dump()
    assert short.pop("name") == "downstream-short-form" and base.pop("name") == "downstream-fixed-prompt"
    assert short == base
