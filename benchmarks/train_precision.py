"""How much faster does a `synthir eval` setting (--precision bf16, --chunk-rows N, --freeze-layers N) fine-tune a student here?

    .venv/bin/python benchmarks/train_precision.py --dataset DATA_DIR [--model e5-small] [--rows 128] \
        [--precisions fp32 bf16] [--chunk-rows 0 8] [--freeze-layers 0 6] [--repeats 2] \
        --out benchmarks/results/train_precision-TAG.json

Each setting (precision x chunk rows x frozen layers; chunk rows 0: one padded forward, as
sentence-transformers does; frozen layers 0: every weight trains) runs in
its own process (`--one`), one after the other, the whole list `--repeats` times over so that a VM
whose speed drifts shows it (the settings interleaved, not one block each): the student of
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


def one(dataset: Path, model: str, rows: int, precision: str, chunk_rows: int | None = None,
        freeze_layers: int = 0) -> dict:
    """One setting, in this process: training seconds, steps and loss."""
    from synthir.embed.st import default_prefixes
    from synthir.eval.harness import _load_model
    from synthir.eval.train import TrainOptions, finetune
    from synthir.eval.train_data import load_training

    q, p = default_prefixes(model)
    opts = TrainOptions(query_prefix=q, passage_prefix=p, max_rows=rows, epochs=1.0, config="pairs",
                        precision=precision, device="cpu", chunk_rows=chunk_rows,
                        freeze_layers=freeze_layers).for_student(model)
    sets = {k: v for k, (_, v) in load_training(dataset, opts).items()}
    st = _load_model(model, opts.max_seq_length, "cpu")
    import tempfile

    with tempfile.TemporaryDirectory() as work:
        r = finetune(st, sets, Path(work), opts)
    return {"precision": precision, "chunk_rows": chunk_rows, "freeze_layers": freeze_layers,
            "rows": len(sets["mnrl"]), "train_seconds": r["seconds"], "steps": r["steps"], "loss": r["loss"]}


def _label(precision: str, chunk_rows: int | None, freeze_layers: int = 0) -> str:
    """A setting's name in the report: "bf16 chunk 8", or "bf16" for synthir eval's own chunks;
    " freeze 6" added for frozen layers."""
    name = precision if chunk_rows is None else f"{precision} chunk {chunk_rows}"
    return name + (f" freeze {freeze_layers}" if freeze_layers else "")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", type=Path, required=True, help="a published synthir dataset dir")
    ap.add_argument("--model", default="e5-small")
    ap.add_argument("--rows", type=int, default=128)
    ap.add_argument("--precisions", nargs="+", default=["fp32", "bf16"], choices=["fp32", "bf16"])
    ap.add_argument("--chunk-rows", type=int, nargs="+", default=[None], metavar="N",
                    help="texts per length-sorted chunk of each forward (synthir eval --chunk-rows; 0: off); "
                         "default: synthir eval's own (8 on a CPU)")
    ap.add_argument("--freeze-layers", type=int, nargs="+", default=[0], metavar="N",
                    help="embeddings and first N transformer layers frozen (synthir eval --freeze-layers; 0: none)")
    ap.add_argument("--repeats", type=int, default=1, help="run the whole list of settings this many times")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--one", help=argparse.SUPPRESS)
    ap.add_argument("--one-chunk", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--one-freeze", type=int, default=0, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    from synthir.errors import SynthirError

    if a.one:
        try:
            print(json.dumps(one(a.dataset, a.model, a.rows, a.one, a.one_chunk, a.one_freeze)))
        except SynthirError as e:
            sys.exit(f"train_precision: {e}")
        return 0
    if a.repeats < 1 or any(c is not None and c < 0 for c in a.chunk_rows) or min(a.freeze_layers) < 0:
        sys.exit("train_precision: --repeats must be >= 1, --chunk-rows and --freeze-layers >= 0")
    settings = [(p, c, f) for p in a.precisions for c in a.chunk_rows for f in a.freeze_layers]
    runs = [run_isolated(__file__, ["--dataset", str(a.dataset), "--model", a.model, "--rows", str(a.rows),
                                    "--one", p, *([] if c is None else ["--one-chunk", str(c)]),
                                    "--one-freeze", str(f)], _label(p, c, f))
            for _ in range(a.repeats) for p, c, f in settings]
    res = {"machine": f"{platform.machine()}, {os.cpu_count()} CPUs", "model": a.model, "runs": runs}
    seconds = {(p, c, f): sum(r["train_seconds"] for r in runs
                              if (r["precision"], r["chunk_rows"], r["freeze_layers"]) == (p, c, f)) / a.repeats
               for p, c, f in settings}
    res["mean_seconds"] = {_label(*k): round(s, 1) for k, s in seconds.items()}
    if len(a.chunk_rows) == 1 and len(a.freeze_layers) == 1 and {"fp32", "bf16"} <= set(a.precisions):
        c, f = a.chunk_rows[0], a.freeze_layers[0]  # fp32 seconds / bf16 seconds
        res["train_speedup"] = round(seconds[("fp32", c, f)] / seconds[("bf16", c, f)], 2)
    if 0 in a.chunk_rows:  # padded seconds / chunked seconds, per precision, chunk size and freeze
        res["chunk_speedup"] = {_label(p, c, f): round(seconds[(p, 0, f)] / seconds[(p, c, f)], 2)
                                for p, c, f in settings if c != 0}
    if 0 in a.freeze_layers:  # seconds with every layer trained / seconds with N frozen
        res["freeze_speedup"] = {_label(p, c, f): round(seconds[(p, c, 0)] / seconds[(p, c, f)], 2)
                                 for p, c, f in settings if f != 0}
    print(json.dumps(res, indent=1))
    if a.out:
        a.out.write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
