"""Load a script of `benchmarks/` as a module, for the tests under tests/unit/benchmarks, and make
the small downstream work dir that several of them read.

`benchmarks/` is a folder of runnable scripts, not a package, so its tests load each one by path.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]


def load_benchmark(name: str) -> ModuleType:
    """benchmarks/NAME.py, executed once as module NAME."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def downstream_work_dir(root: Path, queries: list[str], positive_ids: list[str]) -> Path:
    """root/work as benchmarks/downstream.py leaves one dev set: data/ (a dataset whose `pairs`
    config holds one row per query, ids r0, r1, …, under a content-hashed file name its card
    points to) and fewshot.jsonl."""
    import pandas as pd

    work = root / "work"
    pairs = work / "data" / "data" / "pairs"
    pairs.mkdir(parents=True)
    name = "train-00000-of-00001-0123456789ab.parquet"
    n = len(queries)
    pd.DataFrame({"id": [f"r{i}" for i in range(n)], "query": queries, "positive": ["p"] * n,
                  "positive_id": positive_ids}).to_parquet(pairs / name, index=False)
    (work / "data" / "README.md").write_text(
        f"---\nconfigs:\n- config_name: pairs\n  data_files:\n  - split: train\n    path: data/pairs/{name}\n---\n# card\n")
    (work / "fewshot.jsonl").write_text('{"query": "shown"}\n')
    return work
