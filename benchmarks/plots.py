"""PNG plots for docs/results.md from the benchmark and evaluation results (run by hand).

    .venv/bin/python benchmarks/plots.py [--results benchmarks/results] [--eval out/eval] [--out docs/img]

Reads scale.json, engine_vs_e2e.json (benchmarks/results) and metrics_by_group.json (a
`synthir eval` output dir); writes scale.png, engine_vs_e2e.png, eval.png for what exists.
Needs matplotlib (extra [notebooks]).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def scale_plot(data: dict, out: Path) -> None:
    """Seconds per stage and peak RSS against corpus size (log-log)."""
    sizes = sorted(data["sizes"], key=int)
    stages = {"embed + index": lambda s: s["stages"]["embed_and_index"]["s"],
              "round trip": lambda s: s["stages"]["roundtrip"]["s"],
              "mining": lambda s: s["stages"]["mine_per_shard"]["s"],
              "ingest + sample": lambda s: s["stages"]["ingest_and_sample"]["s"]}
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    x = [int(n) for n in sizes]
    for name, get in stages.items():
        ax.plot(x, [get(data["sizes"][n]) for n in sizes], marker="o", label=name)
    ax.set(xscale="log", yscale="log", xlabel="passages in the corpus", ylabel="seconds",
           title="Time per stage (all sampled passages as queries)")
    ax.legend()
    ax2.plot(x, [data["sizes"][n]["peak_rss_mib"] for n in sizes], marker="o", color="tab:red")
    ax2.set(xscale="log", xlabel="passages in the corpus", ylabel="MiB", title="Peak RSS")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def engine_plot(data: dict, out: Path) -> None:
    """Total tokens/s of the engine loop vs synthir, and where synthir's wall time goes."""
    tp = data["summary"]["throughput"]
    names = [k for k in tp if "headroom" not in k]
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    ax.barh(names, [tp[k]["total_tokens_per_s"] for k in names], color="tab:blue")
    ax.set(xlabel="tokens/s (prompt + completion)", title="Engine limit vs synthir")
    ax.invert_yaxis()
    stages = [s for s in data["summary"]["stages"] if s["measured_s"] >= 0.05]
    ax2.barh([s["stage"] for s in stages], [s["measured_s"] for s in stages], color="tab:green")
    ax2.set(xlabel="seconds", title="synthir run: wall time per stage")
    ax2.invert_yaxis()
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def eval_plot(groups: dict, out: Path) -> None:
    """Base vs fine-tuned nDCG@10, Recall@100, MRR@10 per query group."""
    names = list(groups)
    metrics = ["ndcg@10", "recall@100", "mrr@10"]
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.8), sharey=True)
    for ax, m in zip(axes, metrics):
        xs = range(len(names))
        ax.bar([x - 0.2 for x in xs], [groups[g]["base"][m] for g in names], 0.4, label="base")
        ax.bar([x + 0.2 for x in xs], [groups[g]["tuned"][m] for g in names], 0.4, label="fine-tuned")
        ax.set_xticks(list(xs), names, rotation=30)
        ax.set(title=m, ylim=(0, 1))
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", default="benchmarks/results")
    ap.add_argument("--eval", default="out/eval")
    ap.add_argument("--out", default="docs/img")
    a = ap.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    res = Path(a.results)
    if (res / "scale.json").exists():
        scale_plot(json.loads((res / "scale.json").read_text()), out / "scale.png")
    if (res / "engine_vs_e2e.json").exists():
        engine_plot(json.loads((res / "engine_vs_e2e.json").read_text()), out / "engine_vs_e2e.png")
    groups = Path(a.eval) / "metrics_by_group.json"
    if groups.exists():
        eval_plot(json.loads(groups.read_text()), out / "eval.png")
    print("wrote", sorted(p.name for p in out.glob("*.png")))


if __name__ == "__main__":
    main()
