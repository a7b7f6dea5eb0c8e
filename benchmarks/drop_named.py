"""Train without the synthetic queries that name the program: does the name teach a shortcut?

    .venv/bin/python benchmarks/drop_named.py --work-dir WORK/DEVSET_NAME --devset DEVSET --tag NAME \
        --pattern REGEX [--control random] [--seeds 0,1,2] [--set e5-small.precision=bf16] [--about "…"]

Why: on the software FAQs (docs/results.md §8bl) 60% of the kept synthetic queries name their
program ("How can I disable flow control in zsh?"), against 17% of the Z shell FAQ's own
questions; on Spanish GNOME help 2 (§8bk) 34% name the application, against 7% of its page
titles. The 1.5B generator ignores a "do not name the program" instruction (§8bm). If a query
that names its program teaches the student to route by the name, which the real questions
mostly lack, a student trained without those queries would score higher.

WORK/DEVSET_NAME is a benchmarks/downstream.py work dir of one dev set: data/ (the published
dataset) and fewshot.jsonl. The script copies it to WORK/DEVSET_NAME/drop-TAG/, removes from the
copy's `pairs` config every row whose query matches --pattern (case-insensitive), and evaluates
the copy as benchmarks/downstream.py does (the student's recipe, the human arm, every unseen
question). `--control random` removes the same number of rows from each passage, drawn with a
seeded `random.Random` among all of that passage's rows instead: the same passages and counts,
any query. Compare either eval dir with the whole draw's (`synthir eval-compare`).
Writes benchmarks/results/drop-TAG.{json,md} and the per-question scores to
benchmarks/results/per_query/drop-TAG/ (an eval dir for `synthir eval-compare`). One-line errors
for a bad pattern, a pattern that matches no pair or every pair, bad seeds, or a dir that is not
a downstream work dir.
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchmarks/ is a folder of scripts, not a package
import heldout  # noqa: E402
from bag import pairs_file, rewrite_pairs  # noqa: E402

from synthir.cli import seed_list  # noqa: E402


def rows_to_drop(queries: list[str], passages: list[str], pattern: re.Pattern[str],
                 control: str | None, seed: int) -> list[int]:
    """Indices of the rows to remove: those whose query matches `pattern`; with control
    `random`, as many rows per passage as match there, drawn from all the passage's rows (in
    sorted passage order, one seeded RNG)."""
    named = [i for i, q in enumerate(queries) if pattern.search(q)]
    if control is None:
        return named
    rng = random.Random(seed)
    by_passage: dict[str, list[int]] = {}
    for i, p in enumerate(passages):
        by_passage.setdefault(p, []).append(i)
    count: dict[str, int] = {}
    for i in named:
        count[passages[i]] = count.get(passages[i], 0) + 1
    return sorted(i for p in sorted(count) for i in rng.sample(by_passage[p], count[p]))


def copy_without(work: Path, out: Path, pattern: re.Pattern[str], control: str | None, seed: int) -> dict[str, Any]:
    """out/data (the dataset without the dropped pairs) and out/fewshot.jsonl; the counts."""
    import pandas as pd

    data, shots = work / "data", work / "fewshot.jsonl"
    if not (data / "README.md").is_file() or not shots.is_file():
        raise SystemExit(f"{work.name}: not a benchmarks/downstream.py work dir (needs data/ and fewshot.jsonl)")
    df = pd.read_parquet(pairs_file(data))
    drop = rows_to_drop(df["query"].astype(str).tolist(), df["positive_id"].astype(str).tolist(),
                        pattern, control, seed)
    if not drop:
        raise SystemExit(f"--pattern {pattern.pattern!r} matches no pair: nothing to leave out")
    if len(drop) == len(df):
        raise SystemExit(f"--pattern {pattern.pattern!r} matches every pair: nothing would be left to train on")
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(data, out / "data")
    shutil.copy(shots, out / "fewshot.jsonl")
    kept = df.drop(index=drop).reset_index(drop=True)
    rewrite_pairs(out / "data", kept)
    named = sum(bool(pattern.search(q)) for q in df["query"].astype(str))
    return {"pairs": len(df), "named": named, "dropped": len(drop), "kept": len(kept),
            "passages": int(df["positive_id"].nunique()), "passages_kept": int(kept["positive_id"].nunique())}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work-dir", type=Path, required=True)
    ap.add_argument("--devset", type=Path, required=True)
    ap.add_argument("--tag", required=True)
    ap.add_argument("--pattern", required=True, help="a query that matches it (case-insensitive) names the program")
    ap.add_argument("--control", choices=["random"], default=None)
    ap.add_argument("--control-seed", type=int, default=0)
    ap.add_argument("--seeds", type=seed_list, default="0,1,2")
    ap.add_argument("--student", default="e5-small", choices=["minilm", "e5-small"])
    ap.add_argument("--set", action="append", default=[], metavar="STUDENT.KEY=VALUE")
    ap.add_argument("--about", default="")
    a = ap.parse_args(argv)
    try:
        pattern = re.compile(a.pattern, re.IGNORECASE)
    except re.error as e:
        raise SystemExit(f"--pattern: not a regular expression ({e})") from None
    seeds = a.seeds
    from downstream import evaluate, keep_per_query, override

    override(a.set)
    target = a.work_dir / f"drop-{a.tag}"
    counts = copy_without(a.work_dir, target, pattern, a.control, a.control_seed)
    eval_dir = target / f"eval-{a.student}-mnrl"
    e = evaluate(target / "data", a.devset, a.student, "mnrl", seeds, eval_dir, target / "fewshot.jsonl")
    keep_per_query(eval_dir, heldout.ROOT / "benchmarks" / "results" / "per_query" / f"drop-{a.tag}")
    payload = {"about": a.about, "pattern": a.pattern, "control": a.control, "control_seed": a.control_seed,
               "counts": counts, "eval": e}
    arms = " / ".join(f"{k} {v['ndcg@10']['mean']:.3f}" for k, v in e["arms"].items())
    deltas = "; ".join(f"{k} {v['mean']:+.3f} [{v['ci_low']:+.3f}, {v['ci_high']:+.3f}]" for k, v in e["deltas"].items())
    u = e["unseen"]
    what = "the same number of random pairs per passage" if a.control else "every pair whose query names the program"
    md = (f"# Without the queries that name the program: {a.tag}\n\n{a.about}\n\n"
          f"Pattern `{a.pattern}` (case-insensitive) matches {counts['named']} of {counts['pairs']} pairs; "
          f"dropped {what}: {counts['dropped']}, kept {counts['kept']} on {counts['passages_kept']} of "
          f"{counts['passages']} passages.\n\n{a.student} / mnrl, seeds {','.join(map(str, seeds))}, {e['test_queries']} test questions: "
          f"{arms} (nDCG@10).\n\n{deltas}\n\nunseen ({u.get('queries')} q.): synthetic − base "
          f"{u['delta']['mean']:+.3f} [{u['delta']['ci_low']:+.3f}, {u['delta']['ci_high']:+.3f}]\n")
    heldout.write(f"drop-{a.tag}", payload, md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
