"""Per-stage time and peak memory of the demo job on this machine (run by hand).

    .venv/bin/python benchmarks/demo_stages.py [--n 40] [--corpus .cache/demo/wiki_en_fr.jsonl]

Runs the local pipeline on configs/demo.yaml into a fresh output dir with a fresh cache (so the
model really generates and the corpus is really embedded) and writes
benchmarks/results/demo_stages.json and .md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--corpus", default=str(REPO / ".cache/demo/wiki_en_fr.jsonl"))
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="synthir-bench-"))
    os.environ["SYNTHIR_CACHE_DIR"] = str(tmp / "cache")

    from synthir.config import load_config
    from synthir.pipeline import run

    cfg = load_config(REPO / "configs/demo.yaml", [f"corpus.path={args.corpus}", f"sample.n={args.n}"],
                      out=tmp / "out")
    t0 = time.time()
    result = run(cfg, progress=False)
    wall = time.time() - t0
    f = result["funnel"]
    sec = f["seconds"]
    out = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "passages_in_corpus": f["ingest"]["kept"], "sampled": f["sample"]["sampled"],
        "prompts": f["queries"]["prompts"], "kept_pairs": f["queries"]["roundtrip_kept"],
        "seconds": sec, "wall_seconds": round(wall, 1),
        "corpus_passages_per_s": round(f["ingest"]["kept"] / sec["index"], 1),
        "prompts_per_s": round(f["queries"]["prompts"] / sec["generate"], 3),
        "completion_tokens_per_s": round(f["tokens"]["completion"] / sec["generate"], 2),
        "prompt_tokens": f["tokens"]["prompt"], "completion_tokens": f["tokens"]["completion"],
        "kept_pairs_per_hour": round(f["queries"]["roundtrip_kept"] / wall * 3600, 1),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "note": "generate includes loading the model (~60 s); the index stage embeds every passage",
    }
    res = REPO / "benchmarks" / "results"
    res.mkdir(parents=True, exist_ok=True)
    (res / "demo_stages.json").write_text(json.dumps(out, indent=2) + "\n")
    rows = "\n".join(f"| {k} | {v} |" for k, v in out.items() if not isinstance(v, dict))
    stages = "\n".join(f"| {k} | {v} |" for k, v in sec.items())
    (res / "demo_stages.md").write_text(
        f"# Demo job, per stage ({out['machine']['cpus']} CPUs)\n\n| metric | value |\n|---|---|\n{rows}\n\n"
        f"| stage | seconds |\n|---|---:|\n{stages}\n")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
