"""Do the kept queries of the GNOME booklet pages name the right page count? (GNOME help dev sets)

    .venv/bin/python benchmarks/page_counts.py --tag NAME --run LABEL=RUN_OUTPUT_DIR ... \
        --devset DEVSET_DIR

evince's help has about twenty near-identical "print a booklet of N pages" pages whose ids carry
the count (`es:evince/duplex-3pages`, `fr:evince/singlesided-9-12pages`) and whose real
questions are "Folleto de 3 páginas". A kept query on such a page that names a number but none
of its id's counts ("Imprimir folleto de 4 páginas" on the 3-page page, the padded count) points
the student at a sibling page (docs/results.md §8ao).

Per `--run` (a `synthir run` output dir: its published `pairs` config): the kept pairs on the
numbered booklet pages, how many of those pages they cover (of the dev set's), how many queries
name a number and how many name none of the page's counts, with those queries as examples.
Writes benchmarks/results/page_counts-NAME.json; labels, not paths, go into the results.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

from synthir.errors import InputError
from synthir.io.beir import read_beir

sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchmarks/ is a folder of scripts, not a package
from published import labelled, pair_rows, write_result  # noqa: E402

PAGE_ID = re.compile(r"(\d+)(?:-(\d+))?pages$")
NUMBER = re.compile(r"\d+")


def page_counts(page_id: str) -> set[str] | None:
    """The page counts a booklet page's id names (`duplex-3pages` -> {"3"}), None for other pages."""
    m = PAGE_ID.search(page_id)
    return None if m is None else {g for g in m.groups() if g}


def count_run(pairs: list[dict[str, Any]], numbered_pages: int) -> dict[str, Any]:
    """Counts for one run's pairs (rows with `query` and `positive_id`)."""
    counted = [(r, page_counts(r["positive_id"])) for r in pairs]
    on_pages = [(r, want) for r, want in counted if want is not None]
    with_number = [(r, want) for r, want in on_pages if NUMBER.search(r["query"])]
    wrong = [r for r, want in with_number if not set(NUMBER.findall(r["query"])) & want]
    return {
        "pairs": len(pairs),
        "booklet_pairs": len(on_pages),
        "booklet_pages_covered": len({r["positive_id"] for r, _ in on_pages}),
        "booklet_pages": numbered_pages,
        "with_number": len(with_number),
        "wrong_number": len(wrong),
        "wrong_examples": [f'{r["positive_id"]}: {r["query"]}' for r in wrong[:10]],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tag", required=True)
    ap.add_argument("--run", action="append", required=True, metavar="LABEL=DIR")
    ap.add_argument("--devset", required=True, help="the BEIR dev set dir the runs came from")
    args = ap.parse_args()
    try:
        ids = list(read_beir(args.devset).corpus)
    except InputError as e:
        raise SystemExit(f"page_counts: {args.devset} is not BEIR jsonl with _id ({e})") from None
    numbered = sum(page_counts(i) is not None for i in ids)
    out: dict[str, Any] = {}
    for label, run_dir in labelled(args.run, what="--run LABEL=DIR"):
        rows = pair_rows(run_dir, ["query", "positive_id"])
        out[label] = count_run(rows, numbered)
        print(label, {k: v for k, v in out[label].items() if k != "wrong_examples"})
    write_result("page_counts", args.tag, out, sort_keys=True)


if __name__ == "__main__":
    main()
