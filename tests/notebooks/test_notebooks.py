"""The notebooks under notebooks/: committed without outputs, no prompt text in their code (they
use the prompt library and generators the flows use), and executed for real (nbclient, the
embedded model, small sizes) with assertions on what they computed.

The executed notebook lives in memory only: nothing is written back into the repository.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import re
import sys
from html import escape
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
NB_DIR = REPO / "notebooks"
NOTEBOOKS = ["01_prompt_iteration.ipynb", "02_dataset_inspection.ipynb"]
CELL_TIMEOUT_S = 600

# ---------------------------------------------------------------------------------------------
# "No prompt text in cells": string literals of the notebooks' code (and of notebooks/*.py)
# must not look like prompt text. Checked on the AST, so comments and identifiers don't count.
# ---------------------------------------------------------------------------------------------
PROMPT_LINE = re.compile(
    r"^\s*(?:[A-Za-z][\w ]{0,30}\s)?(?:passage|summary|query|document|output|examples?|task|"
    r"instructions?)\s*:", re.IGNORECASE | re.MULTILINE)
PROMPT_MARKERS = ("{{", "}}", "{%", "%}", "{#", "search query", "<start_of_turn>", "<end_of_turn>",
                  "<|im_start|>", "<|im_end|>", "[inst]", "### instruction", "### response")
TEMPLATE_CALLS = ("Template", "from_string", "Environment")  # building a template in a cell


def _strings(tree: ast.AST) -> list[str]:
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            out.append(node.value)
        elif isinstance(node, ast.JoinedStr):  # f-string: its literal parts, joined
            out.append("".join(v.value for v in node.values
                               if isinstance(v, ast.Constant) and isinstance(v.value, str)))
    return out


def prompt_text_problems(source: str) -> list[str]:
    """Why `source` (Python, IPython magics allowed) holds prompt text; [] when it does not."""
    code = "\n".join("" if line.lstrip().startswith(("%", "!")) else line
                     for line in source.splitlines())
    tree = ast.parse(code)
    problems = []
    for s in _strings(tree):
        m = PROMPT_LINE.search(s)
        if m:
            problems.append(f"prompt-like line {m.group(0).strip()!r} in string {s[:60]!r}")
        low = s.lower()
        problems += [f"prompt marker {mk!r} in string {s[:60]!r}" for mk in PROMPT_MARKERS if mk in low]
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
            if name in TEMPLATE_CALLS:
                problems.append(f"builds a template in code: {name}(...)")
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            mods = [a.name for a in node.names] + ([node.module] if isinstance(node, ast.ImportFrom) else [])
            if any(m and m.split(".")[0] == "jinja2" for m in mods):
                problems.append("imports jinja2 (templates belong in prompts/)")
    return problems


def _read(name: str) -> dict:
    return json.loads((NB_DIR / name).read_text(encoding="utf-8"))


def _code_cells(name: str) -> list[str]:
    return ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
            for c in _read(name)["cells"] if c["cell_type"] == "code"]


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_no_prompt_text_in_notebook_cells(name):
    problems = {i: p for i, src in enumerate(_code_cells(name)) if (p := prompt_text_problems(src))}
    assert not problems, f"{name}: code cells hold prompt text (use prompts/*.j2): {problems}"


def test_no_prompt_text_in_notebook_helpers():
    for path in NB_DIR.glob("*.py"):
        assert not prompt_text_problems(path.read_text(encoding="utf-8")), path


@pytest.mark.parametrize("source", [
    'PROMPT = "Passage: {text}\\nEnglish search query:"',
    "p = f'''Write a query.\\nPassage: {passage}\\nQuery:'''",
    'tpl = "{{ task }}\\n{% for ex in examples %}{{ ex.query }}{% endfor %}"',
    'import jinja2\nt = jinja2.Template(open("x").read())',
    'msg = "<start_of_turn>user\\nhello"',
    'x = "Summary: the passage says"',
])
def test_prompt_text_check_catches_prompts(source):
    assert prompt_text_problems(source)


@pytest.mark.parametrize("source", [
    'VARIANTS = {"A": ["generation.queries=[{method: promptagator, num_examples: 3}]"]}',
    'print(f"{name}: {prompts} prompts -> {len(records)} parsed")',
    '%matplotlib inline\nax.set_title("Query length")',
    'cols = ["query_lang", "query", "positive_id"]',
])
def test_prompt_text_check_allows_plain_code(source):
    assert not prompt_text_problems(source)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebooks_are_committed_without_outputs(name):
    nb = _read(name)
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, f"{name}: clear outputs"


def test_notebooks_use_the_library_not_their_own_prompts():
    a = "\n".join(_code_cells(NOTEBOOKS[0]))
    for api in ("query_generators(", ".build_prompts(", "run_plan(", "make_llm(", "filter_queries(",
                "roundtrip_filter(", "load_config(", ".template.sha256"):
        assert api in a, f"{NOTEBOOKS[0]} no longer calls {api}"
    b = "\n".join(_code_cells(NOTEBOOKS[1]))
    for api in ("load_dataset(", "from synthir.pipeline import run", "funnel.json"):
        assert api in b, f"{NOTEBOOKS[1]} no longer uses {api}"


# ---------------------------------------------------------------------------------------------
# Execution (real model, real embedder, real FAISS; small sizes).
# ---------------------------------------------------------------------------------------------
PROBE = "import json as _j, sys as _s\nprint('NBPROBE ' + _j.dumps({payload}, default=str))\n"


def _sha_files() -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(NB_DIR.iterdir())
            if p.is_file()}


def execute(name: str, env: dict[str, str], probe: str) -> tuple[dict, list[dict]]:
    """Run notebook `name` in a fresh python3 kernel (this interpreter: jupyter_client starts
    `python` kernels with sys.executable), cwd = repo root, with `probe` appended as a last cell
    that prints a JSON payload. Returns (payload, outputs of every code cell)."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(NB_DIR / name, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(PROBE.format(payload=probe)))
    before = _sha_files()
    client = NotebookClient(nb, timeout=CELL_TIMEOUT_S, kernel_name="python3",
                            resources={"metadata": {"path": str(REPO)}})
    client.execute(env={**os.environ, **env})  # raises CellExecutionError on a failing cell
    assert _sha_files() == before, "executing a notebook changed files in notebooks/"
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    errors = [o for o in outputs if o.output_type == "error"]
    assert not errors, errors
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    line = next(ln for ln in text.splitlines() if ln.startswith("NBPROBE "))
    return json.loads(line.removeprefix("NBPROBE ")), outputs


def _env(cache: Path, **extra: str) -> dict[str, str]:
    return {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "SYNTHIR_CACHE_DIR": str(cache), **extra}


@pytest.mark.slow
def test_prompt_iteration_notebook_runs(isolated_cache):
    payload, outputs = execute(
        NOTEBOOKS[0], _env(isolated_cache, SYNTHIR_NB_PASSAGES="2", SYNTHIR_NB_CORPUS_PER_LANG="100"),
        '{"prefix": _s.prefix, "keep": keep_rates.reset_index().to_dict("records"), '
        '"shas": {n: [g.template.sha256 for g in gs] for n, gs in generators.items()}, '
        '"shown": {n: it.text for n, it in shown.items()}}')
    assert os.path.realpath(payload["prefix"]) == os.path.realpath(sys.prefix)  # the venv's kernel
    rows = {r["variant"]: r for r in payload["keep"]}
    assert set(rows) == {"A", "B"}
    for r in rows.values():
        assert r["prompts"] == 2 * 2  # 2 passages x 2 target languages
        assert r["prompts"] >= r["parsed"] >= r["filtered"] >= r["roundtrip_kept"] >= 0
    assert sum(r["parsed"] for r in rows.values()) > 0, rows
    # The prompts were rendered from the library: the shown sha256 is the template file's.
    from synthir.prompting import PromptLibrary
    from synthir.generators.queries import PROVIDED

    lib = PromptLibrary()
    assert payload["shas"]["A"] == [lib.template("query/promptagator.j2", PROVIDED).sha256]
    # Side by side: each variant's rendered prompt with its template's sha256; they differ.
    html = "".join(o.get("data", {}).get("text/html", "") for o in outputs)
    for variant, text in payload["shown"].items():
        assert escape(text) in html and payload["shas"][variant][0][:16] in html
    assert payload["shown"]["A"] != payload["shown"]["B"]


@pytest.mark.slow
def test_dataset_inspection_notebook_runs(isolated_cache, tmp_path):
    missing = tmp_path / "no-dataset-here"
    payload, outputs = execute(
        NOTEBOOKS[1], _env(isolated_cache, SYNTHIR_DATASET=str(missing), SYNTHIR_NB_SAMPLE="4",
                           SYNTHIR_NB_CORPUS_PER_LANG="100"),
        '{"dir": str(dataset_dir), "pairs": len(pairs), "rejected": len(rejected), '
        '"funnel": funnel["queries"], "rows": rows}')
    assert not missing.exists()
    built = Path(payload["dir"])
    assert built.is_relative_to(isolated_cache) and (built / "README.md").is_file()
    assert payload["funnel"]["prompts"] == 4 * 2 * 8  # 4 passages x en, fr x 8 samples
    assert payload["pairs"] == payload["rows"]["pairs"] == payload["funnel"]["roundtrip_kept"] > 0
    assert payload["rejected"] == payload["rows"]["rejected"]
    pngs = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(pngs) >= 3, f"{len(pngs)} plots rendered"
