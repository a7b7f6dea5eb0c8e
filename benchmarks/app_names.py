"""How often do generated queries name an application, and the wrong one? (GNOME help dev sets)

    .venv/bin/python benchmarks/app_names.py --tag NAME --run LABEL=RUN_OUTPUT_DIR ... \
        [--human LABEL=DEVSET_DIR ...]

The GNOME help dev sets (`synthir dev-set`) hold the help of three applications: gedit, evince
(the document viewer) and eog (the image viewer); a passage id's first path part names its
application (`fr:evince/opening`). A query "names" an application when it contains the name in
English, French, German or Spanish ("Visionneur de documents", "Dokumentenbetrachter", …); it
names the wrong one when none of the names it contains is its passage's application.

Per `--run` (a `synthir run` output dir): parsed queries (the generate stage's shards, before
the cheap filters and the round trip) and kept pairs (the published `pairs` config). Per
`--human` (a dev set dir): its real questions. Writes benchmarks/results/app_names-NAME.json:
{label: {"parsed": {"n", "named", "wrong"}, "kept": {...}}} and {label: {"n", "named"}} for the
human questions. Labels, not paths, go into the results.
"""

from __future__ import annotations

import argparse
import glob
import re
import sys
from pathlib import Path
from typing import Any, Iterable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchmarks/ is a folder of scripts, not a package
from published import labelled, pair_rows, write_result  # noqa: E402

APPS: dict[str, re.Pattern[str]] = {
    "gedit": re.compile(r"\bgedit\b", re.I),
    "evince": re.compile(
        r"visionneur de documents|\bevince\b|dokumentenbetrachter|visor de documentos|document viewer",
        re.I),
    "eog": re.compile(
        r"visionneur d.images|\beog\b|bildbetrachter|visor de im[aá]genes|image viewer", re.I),
}


def app_of(passage_id: str) -> str:
    """"fr:evince/opening" -> "evince"."""
    return passage_id.split(":")[-1].split("/")[0]


def tally(rows: Iterable[tuple[str, str]]) -> dict[str, int]:
    """(query, passage_id) rows -> {"n", "named", "wrong"}."""
    n = named = wrong = 0
    for query, pid in rows:
        hits = {app for app, rx in APPS.items() if rx.search(query)}
        n += 1
        named += bool(hits)
        wrong += bool(hits) and app_of(pid) not in hits
    return {"n": n, "named": named, "wrong": wrong}


def run_counts(out: Path) -> dict[str, dict[str, int]]:
    """Parsed queries (generate shards) and kept pairs (published `pairs`) of one run dir."""
    from synthir.io.files import read_jsonl

    parsed = [(r["query"], r["passage_id"])
              for f in sorted(glob.glob(str(out / ".synthir" / "shards" / "*" / "queries.jsonl")))
              for r in read_jsonl(Path(f))]
    if not parsed:
        raise SystemExit(f"{out.name}: no generate shards in this run dir")
    pairs = pair_rows(out, ["query", "positive_id"])
    return {"parsed": tally(parsed), "kept": tally((r["query"], r["positive_id"]) for r in pairs)}


def human_counts(devset: Path) -> dict[str, int]:
    """{"n", "named"} over a dev set's real questions (its BEIR queries.jsonl)."""
    from synthir.io.beir import read_beir

    texts = list(read_beir(devset, corpus=False).queries.values())
    return {"n": len(texts), "named": sum(any(rx.search(t) for rx in APPS.values()) for t in texts)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tag", required=True)
    ap.add_argument("--run", action="append", default=[], metavar="LABEL=RUN_OUTPUT_DIR")
    ap.add_argument("--human", action="append", default=[], metavar="LABEL=DEVSET_DIR")
    args = ap.parse_args(argv)
    if not args.run and not args.human:
        raise SystemExit("give at least one --run or --human")
    result: dict[str, Any] = {"runs": {}, "human": {}}
    for label, path in labelled(args.run):
        c = result["runs"][label] = run_counts(path)
        print(f"{label}: parsed {c['parsed']}, kept {c['kept']}")
    for label, path in labelled(args.human):
        c = result["human"][label] = human_counts(path)
        print(f"{label} (human): {c}")
    write_result("app_names", args.tag, result, sort_keys=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
