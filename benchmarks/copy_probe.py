"""Copy-rate probe: how often does the generator copy a few-shot example, per prompt variant?

    .venv/bin/python benchmarks/copy_probe.py --run RUN_DIR --recipe configs/downstream.yaml \
        [--pool bootstrap|shipped] [--passages 30] [--tag NAME] VARIANT=SET[,SET...] ...

Generation and parsing only (no round trip): `--passages` passages drawn (seed 1) from the
sampled passages of an existing run (RUN_DIR, e.g. a benchmarks/downstream.py data dir), the
recipe's query method with each variant's `--set` overrides, 8 samples per passage, llama.cpp on
1 thread. `--pool bootstrap` uses that run's bootstrap pool (its .synthir/bootstrap_examples.jsonl),
`shipped` the recipe's own pool. Reported per variant: samples, parsed, copied-example rejects
and rate, every reject reason, seconds.

Example (docs/results.md §8d): A=generation.queries[0].num_examples=4
C=generation.queries[0].num_examples=8
F=generation.queries[0].num_examples=8,generation.queries[0].example_order=short_last
Output: benchmarks/results/copy_probe[-TAG].json (one row per variant).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))


def probe(run_dir: Path, recipe: Path, sets: list[str], pool: str, n: int) -> dict[str, Any]:
    """One variant: generate for `n` passages of `run_dir` and count the rejects."""
    from data_schemas.records import Passage, QueryRecord
    from synthir.config import load_config
    from synthir.generators import language_checker, query_generators
    from synthir.rundir import RunDir, read_records
    from synthir.stages.probe import bootstrap_pools
    from synthir.stages.common import make_llm, run_plan

    rd = RunDir(run_dir)
    passages = [p for sh in rd.shard_dirs() for p in read_records(sh.passages, Passage)]
    passages = random.Random(1).sample(passages, min(n, len(passages)))
    langs = sorted({p.lang for p in passages})
    cfg = load_config(recipe, [f"languages=[{', '.join(langs)}]", "llm.threads=1", *sets],
                      out=ROOT / ".cache" / "copy_probe")
    gens = query_generators(cfg, pools=bootstrap_pools(rd, missing_ok=False) if pool == "bootstrap" else None)
    plan = [(g, g.build_prompts(passages, langs)) for g in gens]
    t0 = time.time()
    records, rejected, _ = run_plan(make_llm(cfg), plan, language_checker(cfg), QueryRecord, 8)
    reasons = Counter(r.reason for r in rejected)
    total = len(records) + len(rejected)
    return {"sets": sets, "samples": total, "parsed": len(records), "copied": reasons["copied_example"],
            "copied_rate": round(reasons["copied_example"] / total, 3) if total else None,
            "rejects": dict(reasons), "seconds": round(time.time() - t0)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", required=True, type=Path)
    ap.add_argument("--recipe", type=Path, default=ROOT / "configs" / "downstream.yaml")
    ap.add_argument("--pool", choices=["bootstrap", "shipped"], default="shipped")
    ap.add_argument("--passages", type=int, default=30)
    ap.add_argument("--tag", default="")
    ap.add_argument("variants", nargs="+", metavar="NAME=SET[,SET...]")
    a = ap.parse_args(argv)
    out = ROOT / "benchmarks" / "results" / ("copy_probe" + (f"-{a.tag}" if a.tag else "") + ".json")
    results: dict[str, Any] = {"run": a.run.parent.name, "recipe": a.recipe.name, "pool": a.pool,
                               "passages": a.passages, "variants": {}}
    for v in a.variants:
        name, _, sets = v.partition("=")
        results["variants"][name] = probe(a.run, a.recipe, [s for s in sets.split(",") if s], a.pool, a.passages)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        print(name, json.dumps(results["variants"][name]), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
