"""The llamacpp backend's samples decoded together against one at a time (docs/results.md §8ba).

    .venv/bin/python benchmarks/parallel_samples.py --run RUN_DIR [--prompts 8] [--parallel 1 8] \
        [--out benchmarks/results/parallel_samples-NAME.json]

Why: a generation run of the short-form recipe (the 1.5B generator, 8 samples per passage)
spent 97% of its time in the generate stage, 25 s a prompt on a 2-core VM. RUN_DIR is a
synthir run dir (its .synthir/config.json and first shard's passages): the first `--prompts`
passages of shard 00000 get the run's own prompts (query method 0, its languages), and each
`llm.parallel_samples` setting builds a fresh backend (response cache off) and generates them
in one `llm.generate` call, in the same order, each setting in its own process (so no model
of another setting stays loaded beside it). Per setting: load and generate seconds, seconds
per prompt, completion tokens, how many samples `gen.parse` keeps (no language check), and how
many samples equal the first setting's (same prompt, same sample k). Writes the JSON (and a .md
beside it) and prints the table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchmarks/ is a folder of scripts, not a package
from isolated import run_isolated  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def load(run: Path, prompts: int, parallel: int) -> tuple[Any, list[Any], Any]:
    """(the run's config with `llm.parallel_samples` and no cache, the prompt items, the query
    generator) for `prompts` passages of shard 00000."""
    from data_schemas.config import RunConfig
    from data_schemas.records import Passage
    from synthir.generators import query_generators
    from synthir.rundir import read_records

    raw = json.loads((run / ".synthir" / "config.json").read_text(encoding="utf-8"))["config"]
    raw["llm"] = {**raw["llm"], "cache": False, "parallel_samples": parallel}
    cfg = RunConfig.model_validate(raw)
    passages = read_records(run / ".synthir" / "shards" / "00000" / "passages.jsonl", Passage)[:prompts]
    gen = query_generators(cfg, pools=None)[0]
    return cfg, gen.build_prompts(passages, cfg.languages), gen


def measure(run: Path, prompts: int, parallel: int) -> dict[str, Any]:
    """One setting: load, generate every prompt's samples in one call, parse them."""
    from data_schemas.records import Rejected
    from synthir.stages.common import batches, make_llm, send_order

    cfg, items, gen = load(run, prompts, parallel)
    t0 = time.time()
    llm = make_llm(cfg)
    loaded = time.time() - t0
    texts: list[str] = []
    kept = tokens = 0
    seconds = 0.0
    for idx, params in batches(gen, items, send_order(items), len(items)):
        chunk = [items[k] for k in idx]
        t1 = time.time()
        gens = llm.generate([it.text for it in chunk], params)
        seconds += time.time() - t1
        for j, g in enumerate(gens):
            rec = gen.parse(chunk[j // params.n], g, llm.backend, llm.model_id, langid=None, sample=j % params.n)
            kept += int(not isinstance(rec, Rejected))
            tokens += g.completion_tokens
            texts.append(g.text)
    return {"parallel_samples": parallel, "model": cfg.llm.model, "prompts": len(items), "samples": len(texts),
            "load_seconds": round(loaded, 1), "generate_seconds": round(seconds, 1),
            "seconds_per_prompt": round(seconds / max(1, len(items)), 2), "completion_tokens": tokens,
            "parsed": kept, "texts": texts}


def one_process(run: Path, prompts: int, parallel: int) -> dict[str, Any]:
    """`measure` in a fresh process (this script with --one)."""
    return run_isolated(__file__, ["--run", str(run), "--prompts", str(prompts), "--one", str(parallel)],
                        f"parallel_samples {parallel}")


def table(rows: list[dict[str, Any]]) -> str:
    """The markdown table of the settings."""
    out = ["| parallel_samples | prompts | samples | generate s | s / prompt | speed-up | completion tokens | "
           "parsed | same sample as the first setting |", "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    base = rows[0]
    for r in rows:
        same = sum(a == b for a, b in zip(base["texts"], r["texts"]))
        out.append(f"| {r['parallel_samples']} | {r['prompts']} | {r['samples']} | {r['generate_seconds']} | "
                   f"{r['seconds_per_prompt']} | {base['generate_seconds'] / max(r['generate_seconds'], 1e-9):.2f}× | "
                   f"{r['completion_tokens']} | {r['parsed']} | {same} of {r['samples']} |")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", type=Path, required=True, help="a synthir run dir (its output.dir)")
    ap.add_argument("--prompts", type=int, default=8)
    ap.add_argument("--parallel", type=int, nargs="+", default=[1, 8])
    ap.add_argument("--out", type=Path, default=RESULTS / "parallel_samples.json")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)  # internal: one setting, JSON to stdout
    args = ap.parse_args()
    if not (args.run / ".synthir" / "config.json").is_file():
        raise SystemExit(f"--run: no .synthir/config.json under {args.run} (give a synthir run's output dir)")
    if args.one is not None:
        print(json.dumps(measure(args.run, args.prompts, args.one)))
        return
    rows = [one_process(args.run, args.prompts, p) for p in args.parallel]
    md = table(rows)
    record = {"machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
              "run": "/".join(args.run.parts[-2:]), "rows": rows, "table": md}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    args.out.with_suffix(".md").write_text(f"# llm.parallel_samples on {record['run']}\n\n{md}\n", encoding="utf-8")
    print(md)


if __name__ == "__main__":
    main()
