"""How much faster does `synthir eval --precision bf16` fine-tune a student than fp32 on this machine?

    .venv/bin/python benchmarks/train_precision.py --dataset DATA_DIR [--model e5-small] [--rows 128] \
        [--precisions fp32 bf16] --out benchmarks/results/train_precision-TAG.json

Each precision runs in its own process (`--one`), one after the other: the student of
`synthir eval` (its prefixes, lr and MNRL scale, max_seq_length 256, batch 32) is loaded fresh
and trains 1 epoch of MNRL on the first `--rows` pairs of one fixed sample
(`synthir.eval.train.finetune`, timed). Reports seconds per setting and the speed-up, and the
training loss of each, so a bf16 run that learns nothing shows. (Evaluation encodes in fp32
whatever the precision, so it is not timed here.)
It trains on the CPU (a GPU, if there is one, is not used), so bf16 runs only where the CPU
computes it natively (AVX512-BF16 / AMX): elsewhere it is refused in one line, as
`synthir eval` refuses it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchmarks/ is a folder of scripts, not a package
from isolated import run_isolated  # noqa: E402


def one(dataset: Path, model: str, rows: int, precision: str) -> dict:
    """One setting, in this process: training seconds, steps and loss."""
    from synthir.embed.st import default_prefixes
    from synthir.eval.harness import _load_model
    from synthir.eval.train import TrainOptions, finetune
    from synthir.eval.train_data import load_training

    q, p = default_prefixes(model)
    opts = TrainOptions(query_prefix=q, passage_prefix=p, max_rows=rows, epochs=1.0, config="pairs",
                        precision=precision, device="cpu").for_student(model)
    sets = {k: v for k, (_, v) in load_training(dataset, opts).items()}
    st = _load_model(model, opts.max_seq_length, "cpu")
    import tempfile

    with tempfile.TemporaryDirectory() as work:
        r = finetune(st, sets, Path(work), opts)
    return {"precision": precision, "rows": len(sets["mnrl"]), "train_seconds": r["seconds"],
            "steps": r["steps"], "loss": r["loss"]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", type=Path, required=True, help="a published synthir dataset dir")
    ap.add_argument("--model", default="e5-small")
    ap.add_argument("--rows", type=int, default=128)
    ap.add_argument("--precisions", nargs="+", default=["fp32", "bf16"], choices=["fp32", "bf16"])
    ap.add_argument("--out", type=Path)
    ap.add_argument("--one", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    from synthir.errors import SynthirError

    if a.one:
        try:
            print(json.dumps(one(a.dataset, a.model, a.rows, a.one)))
        except SynthirError as e:
            sys.exit(f"train_precision: {e}")
        return 0
    runs = [run_isolated(__file__, ["--dataset", str(a.dataset), "--model", a.model, "--rows", str(a.rows),
                                    "--one", precision], precision) for precision in a.precisions]
    res = {"machine": f"{platform.machine()}, {os.cpu_count()} CPUs", "model": a.model, "runs": runs}
    seconds = {r["precision"]: r["train_seconds"] for r in runs}
    if {"fp32", "bf16"} <= set(seconds):  # in either order: fp32 seconds / bf16 seconds
        res["train_speedup"] = round(seconds["fp32"] / seconds["bf16"], 2)
    print(json.dumps(res, indent=1))
    if a.out:
        a.out.write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
