"""The fine-tuning recipe sweep behind `synthir eval`'s defaults (issue 12: "recipe defaults that
actually move a model on small data, chosen by a small sweep on the dev sets").

    .venv/bin/python benchmarks/eval_sweep.py --dataset DIR --devset BEIR_DIR [--student minilm]
        [--grid epochs=1,3 lr=2e-5,1e-4 config=pairs,triplets scale=20,100 loss=mnrl,gist batch=32,128
         mini=0,16 anchor=0,10 qside=0,1 | --points batch=128,mini=32,lr=8e-5 ...] [--seed 0] [--precision fp32|bf16|auto] [--tag NAME]

Selection never sees the test questions: the dev set's judged queries are split exactly as
`synthir eval --human-split 0.5` splits them (same hash, same seed), and every recipe of the grid
is scored on the human-TRAIN half only (written as a BEIR dir of its own under --work). The
downstream table (benchmarks/downstream.py) reports the chosen recipe on the other half. One
fine-tune per grid point (seed --seed), base evaluated each time on the same queries.

Output: benchmarks/results/eval_sweep[-TAG].{json,md}: per recipe nDCG@10 / R@100 / MRR@10 of
base and tuned, training steps and seconds.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

KEYS = {"epochs": float, "lr": float, "config": str, "batch": int, "mini": int, "warmup": float,
        "scale": float, "loss": str, "anchor": float, "qside": int}  # scale: MNRL similarity scale = 1 / temperature (20: sentence-transformers);
# mini: GradCache mini-batch (synthir eval --mini-batch-size; 0: plain loss); anchor: synthir eval --anchor;
# qside: 1 = synthir eval --query-side (the query tower trains, passages keep the base's embeddings)


def _typed(key: str, value: str, flag: str) -> Any:
    """`value` as KEYS[key]'s type; SystemExit (one line, naming the flag) when it is not one."""
    try:
        return KEYS[key](value)
    except ValueError:
        raise SystemExit(f"{flag}: {key} takes {KEYS[key].__name__} values (got {value!r})") from None


def parse_grid(items: list[str]) -> list[dict[str, Any]]:
    """["epochs=1,3", "lr=2e-5,1e-4"] -> the cartesian product as dicts (typed per KEYS)."""
    axes: dict[str, list[Any]] = {}
    for item in items:
        key, _, values = item.partition("=")
        if key not in KEYS or not values:
            raise SystemExit(f"--grid {item!r}: expected KEY=V1,V2 with KEY in {sorted(KEYS)}")
        axes[key] = [_typed(key, v, "--grid") for v in values.split(",")]
    names = sorted(axes)
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*(axes[n] for n in names))]


def parse_points(items: list[str]) -> list[dict[str, Any]]:
    """["batch=64,mini=32,lr=4e-5", "batch=16"] -> one recipe dict per item (typed per KEYS): points
    whose keys move together (a learning rate scaled with the batch), which a grid cannot express."""
    points = []
    for item in items:
        point: dict[str, Any] = {}
        for pair in item.split(","):
            key, _, value = pair.partition("=")
            if key not in KEYS or not value:
                raise SystemExit(f"--points {item!r}: expected KEY=V[,KEY=V...] with KEY in {sorted(KEYS)}")
            point[key] = _typed(key, value, "--points")
        points.append(point)
    return points


def selection_half(devset: Path, out: Path, fraction: float = 0.5, seed: int = 0) -> dict[str, int]:
    """Write the human-train half of `devset` (synthir eval's split) as a BEIR dir at `out`."""
    from synthir.eval.harness import default_human_split
    from synthir.io.beir import read_beir, write_beir

    data = read_beir(devset)
    split, hs = default_human_split(data, devset, fraction, seed)  # synthir eval's split and halves
    keep = set(hs.train)
    corpus = ({"_id": i, **d} for i, d in data.corpus.items())
    queries = ({"_id": q, "text": t, **({"lang": data.query_langs[q]} if q in data.query_langs else {})}
               for q, t in data.queries.items() if q in keep)
    qrels = {"test": [(q, d, s) for q, docs in data.qrels[split].items() if q in keep for d, s in docs.items()]}
    return write_beir(out, corpus, queries, qrels)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", required=True, type=Path, help="published synthir dataset dir")
    ap.add_argument("--devset", required=True, type=Path, help="BEIR dir of real questions")
    ap.add_argument("--student", default="minilm")
    ap.add_argument("--grid", nargs="+", default=["epochs=1,3", "lr=2e-5,1e-4", "config=pairs,triplets"])
    ap.add_argument("--points", nargs="+", help="recipes to run instead of --grid's product, each "
                    "KEY=V[,KEY=V...], e.g. batch=128,mini=32,lr=8e-5")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-seq-length", type=int, default=256)
    ap.add_argument("--precision", default="fp32", choices=["fp32", "bf16", "auto"],
                    help="training precision, as synthir eval --precision")
    ap.add_argument("--work", type=Path, default=ROOT / ".cache" / "eval_sweep")
    ap.add_argument("--tag", default="")
    a = ap.parse_args(argv)

    from synthir.embed.st import default_prefixes
    from synthir.eval.harness import EvalOptions, run_eval
    from synthir.eval.train import TrainOptions

    grid = parse_points(a.points) if a.points else parse_grid(a.grid)
    sel = a.work / f"{a.devset.name}-selection-half"
    counts = selection_half(a.devset, sel)
    qp, pp = default_prefixes(a.student)
    name = "eval_sweep" + (f"-{a.tag}" if a.tag else "")
    out_json = ROOT / "benchmarks" / "results" / f"{name}.json"
    results: dict[str, Any] = {"machine": f"{platform.machine()}, {os.cpu_count()} CPUs, no GPU",
                               "dataset": a.dataset.name if a.dataset.name != "data" else a.dataset.parent.name, "devset": a.devset.name, "student": a.student,
                               "selection_queries": counts["queries"], "seed": a.seed, "precision": a.precision,
                               "runs": []}
    for point in grid:  # lr / scale a point leaves unset (None): synthir eval's defaults for the student
        opts = TrainOptions(epochs=point.get("epochs", 3.0), config=point.get("config", "pairs"),
                            loss=point.get("loss", "mnrl"),
                            learning_rate=point.get("lr"), mnrl_scale=point.get("scale"), batch_size=point.get("batch", 32),
                            mini_batch_size=point.get("mini", 0), warmup_ratio=point.get("warmup", 0.1),
                            seed=a.seed, max_seq_length=a.max_seq_length, precision=a.precision,
                            anchor=point.get("anchor", 0.0), query_side=bool(point.get("qside", 0)))
        tag = "-".join(f"{k}{v}" for k, v in sorted(point.items()))
        t0 = time.time()
        res = run_eval(a.dataset, sel, a.work / a.devset.name / tag, model=a.student, opts=opts,
                       query_prefix=qp, passage_prefix=pp, eval_opts=EvalOptions(seeds=[a.seed]))
        d = res["comparison"]["deltas"]["synthetic-base"]["all"]
        results["runs"].append({"recipe": point, "base": res["metrics"]["base"], "tuned": res["metrics"]["tuned"],
                                "delta": d["mean"], "ci": [d["ci_low"], d["ci_high"]],
                                "seconds": round(time.time() - t0, 1)})
        out_json.parent.mkdir(parents=True, exist_ok=True)
        out_json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        out_json.with_suffix(".md").write_text(markdown(results), encoding="utf-8")
        print(markdown(results), flush=True)
    return 0


def markdown(results: dict[str, Any]) -> str:
    lines = [f"# Recipe sweep: {results['student']} on {results['dataset']}",
             "",
             (f"- machine: {results['machine']}; seed {results['seed']}; "
              f"precision {results.get('precision', 'fp32')}; scored on the human-train half of "
              f"{results['devset']} ({results['selection_queries']} queries; the test half is never seen)"),
             "",
             "| recipe | base nDCG@10 | tuned nDCG@10 | delta (95% CI) | seconds |",
             "|---|---:|---:|---|---:|"]
    for r in sorted(results["runs"], key=lambda r: -r["tuned"]["ndcg@10"]):
        rec = ", ".join(f"{k} {v}" for k, v in sorted(r["recipe"].items()))
        lines.append(f"| {rec} | {r['base']['ndcg@10']:.3f} | {r['tuned']['ndcg@10']:.3f} | "
                     f"{r['delta']:+.3f} [{r['ci'][0]:+.3f}, {r['ci'][1]:+.3f}] | {r['seconds']:.0f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    from synthir.errors import SynthirError
    try:
        sys.exit(main())
    except SynthirError as e:  # a dataset or dev set the sweep cannot read: one line, as the CLI prints it
        sys.exit(f"eval_sweep: {e}")
