"""Shared by the benchmark scripts that read what a run published (app_names, query_form,
page_counts, top_hits, duplicate_keep): `LABEL=DIR` arguments, the rows of a dataset's `pairs`
config, and the results file they write.

`benchmarks/` is a folder of scripts, not a package: a script imports this module after putting
its own folder on `sys.path` (as moves.py and margins.py do with heldout.py), which works both
for `python benchmarks/x.py` and for the tests' load-by-path (tests/benchmark_scripts.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def labelled(specs: list[str], *, bare_ok: bool = False, what: str = "LABEL=DIR") -> list[tuple[str, Path]]:
    """[(label, dir)] from `LABEL=DIR` arguments, in order; the label names the dir in the
    results (never the path, which is local). With `bare_ok`, a spec without "=" is labelled by
    the dir's name. SystemExit (one line) for an empty label or dir, or a missing "=" when a
    label is required."""
    out = []
    for spec in specs:
        label, sep, path = spec.partition("=")
        if not sep and bare_ok:
            label, path = Path(spec).name, spec
        elif not sep or not label or not path:
            raise SystemExit(f"expected {what}, got {spec!r}")
        out.append((label, Path(path)))
    return out


def pair_rows(dataset: Path, columns: list[str]) -> list[dict[str, Any]]:
    """The `columns` of every row of a published dataset's `pairs` config
    (`DIR/data/pairs/*.parquet`, files in name order). SystemExit (one line, the dir's name)
    when the dir has no such file."""
    import pyarrow.parquet as pq

    files = sorted((Path(dataset) / "data" / "pairs").glob("*.parquet"))
    if not files:
        raise SystemExit(f"{Path(dataset).name}: no data/pairs/*.parquet (not a published synthir dataset)")
    return [row for f in files for row in pq.read_table(f, columns=columns).to_pylist()]


def write_result(name: str, tag: str, data: Any, *, sort_keys: bool = False) -> Path:
    """Write `data` as benchmarks/results/NAME-TAG.json (UTF-8, indented) and print its path
    relative to the project; return the path."""
    dest = RESULTS / f"{name}-{tag}.json"
    dest.write_text(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=sort_keys) + "\n", encoding="utf-8")
    print(f"wrote {dest.relative_to(RESULTS.parents[1])}")
    return dest
