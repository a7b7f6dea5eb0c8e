"""The query form of published datasets, also of those published before funnel.json had it.

    .venv/bin/python benchmarks/query_form.py --tag NAME DATASET_DIR [DATASET_DIR ...] \
        [--examples FILE] [--questions BEIR_DIR]

DATASET_DIR may be written LABEL=DIR (the label names it in the output; default: the dir's
name). For each DATASET_DIR (a published synthir dataset: its `data/pairs/*.parquet`), the form of the
published pairs' queries per `method/language` (synthir.query_form: mean / median words, mean
characters, share ending in "?"); with --examples the form of an examples_file's rows (the
in-domain examples the generator saw), with --questions that of a BEIR dir's queries.jsonl (the
real questions, read only for their form). Writes benchmarks/results/query_form-NAME.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from synthir.errors import ConfigError, InputError
from synthir.io.beir import read_beir
from synthir.prompting import read_examples
from synthir.query_form import form

sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchmarks/ is a folder of scripts, not a package
from published import labelled, pair_rows, write_result  # noqa: E402



def dataset_forms(dataset: Path) -> dict[str, Any]:
    """{method/lang: form} of the dataset's published pairs; SystemExit (one line) when the dir
    has no pairs config."""
    queries: dict[str, list[str]] = defaultdict(list)
    for row in pair_rows(dataset, ["query", "method", "query_lang"]):
        queries[f"{row['method']}/{row['query_lang']}"].append(row["query"])
    return {k: form(v) for k, v in sorted(queries.items())}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("datasets", nargs="+", help="published dataset dirs, each DIR or LABEL=DIR")
    ap.add_argument("--tag", required=True)
    ap.add_argument("--examples", type=Path, help="an examples_file (JSONL rows with `query`)")
    ap.add_argument("--questions", type=Path, help="a BEIR dir: the form of its queries.jsonl")
    args = ap.parse_args(argv)
    dirs = dict(labelled(args.datasets, bare_ok=True, what="DIR or LABEL=DIR"))
    out: dict[str, Any] = {"datasets": {label: dataset_forms(d) for label, d in dirs.items()}}
    try:
        if args.examples:
            out["examples"] = form(str(r.get("query", "")) for r in read_examples(args.examples)[0])
        if args.questions:
            out["questions"] = form(read_beir(args.questions, corpus=False).queries.values())
    except (ConfigError, InputError) as exc:
        raise SystemExit(f"query_form.py: {exc}") from None
    print(json.dumps(out, indent=2, ensure_ascii=False))
    write_result("query_form", args.tag, out)
    return out


if __name__ == "__main__":
    main()
