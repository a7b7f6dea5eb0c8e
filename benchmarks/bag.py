"""A soup from one draw: its pairs cut into parts, a student per part, the students averaged.

    .venv/bin/python benchmarks/bag.py --work-dir WORK/DEVSET_NAME --devset DEVSET --tag NAME \
        [--parts 2] [--seed 0] [--set e5-small.precision=bf16] [--against EVAL_DIR]

Why: the students of independent generation draws, averaged into one (benchmarks/soup.py),
scored above the draws' mean on German and Spanish set 2 (docs/results.md §8bd). That soup
costs one generation per draw. Bagging (Breiman, "Bagging predictors", Machine Learning 1996)
gets the different training sets from one draw instead: each passage's kept pairs are dealt
round-robin, after a seeded shuffle, into `--parts` disjoint parts (every passage with at least
`--parts` pairs is in every part), a student is fine-tuned on each part (the same recipe as
benchmarks/downstream.py, seed 0, with the human arm and unseen scoring), and soup.py averages
them. Same generation, about the same training time as one student on the whole draw; the
soup is compared with that student (`--against`, the draw's own eval dir).

WORK/DEVSET_NAME is a benchmarks/downstream.py work dir of one dev set: data/ (the published
dataset) and fewshot.jsonl. The parts go to WORK/DEVSET_NAME/bag-TAG/part-I/. Writes
benchmarks/results/bag-TAG.{json,md} (soup.py's result with the parts' sizes).
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchmarks/ is a folder of scripts, not a package
import heldout  # noqa: E402
import soup  # noqa: E402


def deal(groups: list[str], parts: int, seed: int) -> list[list[int]]:
    """Row indices per part: rows grouped by `groups` (a passage id per row), each group's rows
    shuffled with one seeded `random.Random` (groups in sorted order), then dealt round-robin
    with one counter across groups, so parts differ in size by at most one row and a group of
    n rows puts n // parts or n // parts + 1 into each part."""
    if parts < 2:
        raise SystemExit(f"--parts must be at least 2 (got {parts})")
    rng = random.Random(seed)
    by_group: dict[str, list[int]] = {}
    for i, g in enumerate(groups):
        by_group.setdefault(g, []).append(i)
    out: list[list[int]] = [[] for _ in range(parts)]
    counter = 0
    for g in sorted(by_group):
        rows = by_group[g]
        rng.shuffle(rows)
        for i in rows:
            out[counter % parts].append(i)
            counter += 1
    return [sorted(p) for p in out]


def pairs_file(dataset: Path) -> Path:
    """The one parquet file of the dataset's `pairs` config; one-line SystemExit otherwise."""
    files = sorted((dataset / "data" / "pairs").glob("*.parquet"))
    if len(files) != 1:
        raise SystemExit(f"{dataset.name}: expected one pairs parquet file, found {len(files)}")
    return files[0]


def rewrite_pairs(dataset: Path, rows: Any) -> Path:
    """Replace the `pairs` parquet of a dataset copy with `rows` under a new content-hashed name
    (as synthir publishes, publish/hf.py) and point README.md's `configs:` at it. A new name is
    needed: `datasets` caches a local dataset by its dir name and README, not by its bytes, so a
    copy whose file kept the old name would load the whole draw's cached rows."""
    import hashlib

    old = pairs_file(dataset)
    tmp = old.with_name("part.parquet")
    rows.to_parquet(tmp, index=False)
    digest = hashlib.sha256(tmp.read_bytes()).hexdigest()[:12]
    new = old.with_name(f"{old.stem.rsplit('-', 1)[0]}-{digest}{old.suffix}")
    old.unlink()
    tmp.rename(new)
    card = dataset / "README.md"
    text = card.read_text(encoding="utf-8")
    if f"data/pairs/{old.name}" not in text:
        raise SystemExit(f"{dataset.name}/README.md does not name data/pairs/{old.name}")
    card.write_text(text.replace(f"data/pairs/{old.name}", f"data/pairs/{new.name}"), encoding="utf-8")
    return new


def part_copies(work: Path, out: Path, parts: int, seed: int) -> list[dict[str, Any]]:
    """out/part-I/data (the dataset with only part I's pairs) and out/part-I/fewshot.jsonl, per
    part; [{"dir", "pairs", "passages"}]."""
    import pandas as pd

    data, shots = work / "data", work / "fewshot.jsonl"
    if not (data / "README.md").is_file() or not shots.is_file():
        raise SystemExit(f"{work.name}: not a benchmarks/downstream.py work dir (needs data/ and fewshot.jsonl)")
    df = pd.read_parquet(pairs_file(data))
    made = []
    for i, rows in enumerate(deal(df["positive_id"].astype(str).tolist(), parts, seed)):
        target = out / f"part-{i}"
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(data, target / "data")
        shutil.copy(shots, target / "fewshot.jsonl")
        part = df.iloc[rows].reset_index(drop=True)
        rewrite_pairs(target / "data", part)
        made.append({"dir": target, "pairs": len(part), "passages": int(part["positive_id"].nunique())})
    return made


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work-dir", type=Path, required=True)
    ap.add_argument("--devset", type=Path, required=True)
    ap.add_argument("--tag", required=True)
    ap.add_argument("--parts", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0, help="the shuffle that deals each passage's pairs")
    ap.add_argument("--student", default="e5-small", choices=["minilm", "e5-small"])
    ap.add_argument("--set", action="append", default=[], metavar="STUDENT.KEY=VALUE")
    ap.add_argument("--against", type=Path, default=None, help="the whole draw's eval dir (its seed-0 student)")
    ap.add_argument("--about", default="")
    a = ap.parse_args(argv)
    from downstream import evaluate, override

    override(a.set)
    made = part_copies(a.work_dir, a.work_dir / f"bag-{a.tag}", a.parts, a.seed)
    evals = []
    for i, m in enumerate(made):
        out = m["dir"] / f"eval-{a.student}-mnrl-part{i}"
        evaluate(m["dir"] / "data", a.devset, a.student, "mnrl", [0], out, m["dir"] / "fewshot.jsonl")
        evals.append(out)
    r = soup.soup(evals, against=a.against.resolve() if a.against else None)
    r["parts"] = [{"pairs": m["pairs"], "passages": m["passages"]} for m in made]
    r["seed"] = a.seed
    sizes = ", ".join(f"{m['pairs']} pairs on {m['passages']} passages" for m in made)
    heldout.write(f"bag-{a.tag}", {"about": a.about, **r},
                  f"# Bagging soup: {a.tag}\n\n{a.about}\n\nOne draw's pairs dealt into {a.parts} parts ({sizes}); "
                  f"a student per part, averaged. nDCG@10; 95% CIs from a paired bootstrap over questions.\n\n"
                  f"{soup.table(r)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
