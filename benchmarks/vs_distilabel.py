"""synthir vs distilabel on the same passages and model: kept pairs per hour after the same
round trip (issue 11 item 8). Run by hand, once:

    PYTHONPATH=src:. .venv/bin/python benchmarks/vs_distilabel.py \\
        --devset /work/devsets/gnome-help/gedit+evince+eog-fr \\
        --distilabel-python /work/distilabel-venv/bin/python [--n 30] [--samples 4] [--threads 1]

What it does:
1. synthir: `synthir run` with benchmarks/vs_distilabel.yaml on the dev set's whole corpus
   (`sample.n` passages drawn by synthir's own seeded sampler; the round trip is over every
   passage): Promptagator few-shot, packaged Qwen2.5-Coder-0.5B-Instruct GGUF on llama.cpp,
   `api: chat` (the answer constrained to {"query": ...}), `--samples` queries per passage.
   Model load is timed apart from the generate stage.
2. distilabel: in its own venv (this same file, `distilabel-worker` subcommand), distilabel's
   `GenerateSentencePair(action="query")` on exactly the passages synthir sampled (the passage
   is the anchor), `LlamaCppLLM` on the same GGUF file, same threads, context length, sampling
   (temperature, top_p, top_k off, max new tokens) and number of generations per passage.
   Timed as `task.load()` (model load) and `task.process()` (generation), no Pipeline overhead.
3. The same check for both: each side's (query, source passage) pairs go through
   `synthir filter` with the same config (cheap filters, round trip over the whole corpus with
   use-multilingual at top_k 5).
4. Writes benchmarks/results/vs_distilabel.json and .md (`--smoke`: into --work only): per
   side, generation seconds, completions, parsed queries, kept pairs, kept pairs per hour,
   passages with >= 1 kept query, and 10 sample queries (seeded).

The distilabel venv (outside the repo; only PyPI, no hub downloads):

    python3 -m venv /work/distilabel-venv
    /work/distilabel-venv/bin/pip install distilabel "llama-cpp-python==0.3.36" requests

(llama-cpp-python 0.3.36 is the version synthir pins, so pip reuses the wheel it built for
synthir's venv; `requests` is imported by distilabel 1.5.3 but not declared.)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "benchmarks" / "vs_distilabel.yaml"
RESULTS = REPO / "benchmarks" / "results"
DISTILABEL_CONTEXT = ("The anchor is a passage in French. Write the query in French, as a user "
                      "would type it into a search engine.")
N_SHOWN = 10


# --------------------------------------------------------------------------- distilabel side
def distilabel_worker(args: argparse.Namespace) -> None:
    """Generate with distilabel's GenerateSentencePair(action="query") on the passages in
    `args.passages` (JSONL: id, text) and write raw outputs, parsed queries and timings to
    `args.out`. Runs in distilabel's venv: imports nothing from synthir."""
    import warnings
    from importlib.metadata import version

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    warnings.filterwarnings("ignore", category=UserWarning)  # pydantic notes on distilabel's own models
    from distilabel.models.llms import LlamaCppLLM
    from distilabel.steps.tasks import GenerateSentencePair

    passages = [json.loads(line) for line in Path(args.passages).read_text(encoding="utf-8").splitlines()]
    llm = LlamaCppLLM(
        model_path=args.gguf, n_gpu_layers=0, n_ctx=args.context_length, seed=0,
        extra_kwargs={"n_threads": args.threads, "n_threads_batch": args.threads},
        generation_kwargs={"max_new_tokens": args.max_new_tokens, "temperature": args.temperature,
                           "top_p": args.top_p, "extra_generation_kwargs": {"top_k": 0}})
    task = GenerateSentencePair(action="query", triplet=False, context=DISTILABEL_CONTEXT, llm=llm,
                                num_generations=args.samples, input_batch_size=len(passages))
    t0 = time.perf_counter()
    task.load()
    load_s = time.perf_counter() - t0
    inputs = [{"anchor": p["text"], "passage_id": p["id"]} for p in passages]
    t0 = time.perf_counter()
    rows = [row for batch in task.process(inputs) for row in batch]
    gen_s = time.perf_counter() - t0
    out = [{"passage_id": r["passage_id"], "positive": r.get("positive"), "raw": _metadata(r, "raw_output_"),
            "tokens": _metadata(r, "statistics_") or {}} for r in rows]
    versions = {name: version(name) for name in ("distilabel", "llama_cpp_python")}
    Path(args.out).write_text(json.dumps({"load_seconds": load_s, "generate_seconds": gen_s, "versions": versions,
                                          "rows": out}, ensure_ascii=False), encoding="utf-8")


def _metadata(row: dict[str, Any], prefix: str) -> Any:
    """The `distilabel_metadata` entry whose key starts with `prefix` (raw output, statistics)."""
    meta = row.get("distilabel_metadata") or {}
    return next((v for k, v in meta.items() if k.startswith(prefix)), None)


# --------------------------------------------------------------------------- synthir side
def run_synthir(cfg: Any) -> dict[str, Any]:
    """`synthir run` in this process, the model load timed apart; returns timings, counts, the
    sampled passages and the parsed queries (before the cheap filters and round trip)."""
    from data_schemas.records import Passage, QueryRecord
    from synthir.pipeline import run_stages, start
    from synthir.rundir import read_records
    from synthir.stages import STAGES
    from synthir.stages.common import make_llm

    t0 = time.perf_counter()
    llm = make_llm(cfg)  # llm.cache is off: the model loads here
    load_s = time.perf_counter() - t0
    run = start(cfg)
    funnel = run_stages(cfg, run, STAGES, llm=llm, progress=False)["funnel"]
    passages: list[Passage] = []
    queries: list[QueryRecord] = []
    for shard in run.shard_dirs():
        passages += read_records(shard.passages, Passage)
        queries += read_records(shard.queries, QueryRecord)
    q = funnel["queries"]
    return {"load_seconds": load_s, "generate_seconds": funnel["seconds"]["generate"],
            "completions": q["generated"], "parsed": len(queries), "run_kept": q["roundtrip_kept"],
            "tokens": {"prompt": funnel["tokens"]["prompt"], "completion": funnel["tokens"]["completion"]},
            "dropped_at_parse": funnel["dropped"].get("parse", {}),
            "passages": [{"id": p.id, "text": p.text} for p in passages],
            "pairs": [{"query": r.query, "passage_id": r.passage_id, "language": r.query_lang} for r in queries]}


def run_distilabel(args: argparse.Namespace, passages: list[dict[str, str]], gguf: Path,
                   work: Path) -> dict[str, Any]:
    """The distilabel side in its own venv (this file's `distilabel-worker`); returns timings,
    completions, parsed queries (distilabel's `positive`) and raw outputs."""
    src, out = work / "distilabel_passages.jsonl", work / "distilabel_out.json"
    src.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in passages), encoding="utf-8")
    cmd = [args.distilabel_python, str(Path(__file__).resolve()), "distilabel-worker",
           "--passages", str(src), "--out", str(out), "--gguf", str(gguf), "--samples", str(args.samples),
           "--threads", str(args.threads), "--temperature", str(args.temperature), "--top-p", str(args.top_p),
           "--max-new-tokens", str(args.max_new_tokens), "--context-length", str(args.context_length)]
    subprocess.run(cmd, check=True, env={**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": ""})
    res = json.loads(out.read_text(encoding="utf-8"))
    parsed = [r for r in res["rows"] if (r["positive"] or "").strip()]
    firsts = {r["passage_id"]: r["tokens"] for r in reversed(res["rows"])}  # prompt once per passage
    tokens = {"prompt": sum(_first(t.get("input_tokens")) for t in firsts.values()),
              "completion": sum(_first(r["tokens"].get("output_tokens")) for r in res["rows"])}
    return {"load_seconds": res["load_seconds"], "generate_seconds": res["generate_seconds"],
            "versions": res["versions"], "tokens": tokens,
            "completions": len(res["rows"]), "parsed": len(parsed),
            "unparsed_raw": [r["raw"] for r in res["rows"] if not (r["positive"] or "").strip()],
            "pairs": [{"query": r["positive"].strip(), "passage_id": r["passage_id"], "language": "fr"}
                      for r in parsed]}


def _first(value: Any) -> int:
    """A token count distilabel gives as an int or a one-element list."""
    if isinstance(value, list):
        return int(value[0]) if value else 0
    return int(value or 0)


# --------------------------------------------------------------------------- the same check
def roundtrip_check(cfg: Any, pairs: list[dict[str, str]], out: Path) -> dict[str, Any]:
    """`synthir filter` on (query, passage_id) pairs with `cfg` (cheap filters, then the round
    trip over the whole corpus); returns kept pairs, the drop reasons and the kept queries."""
    from data_schemas.records import QueryRecord
    from synthir.byo import run_filter
    from synthir.rundir import RunDir, read_records

    out.mkdir(parents=True, exist_ok=True)
    pairs_file = out.with_suffix(".pairs.jsonl")
    pairs_file.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in pairs), encoding="utf-8")
    funnel = run_filter(cfg.model_copy(update={"output": cfg.output.model_copy(update={"dir": str(out)})}),
                        pairs_file, progress=False)["funnel"]
    kept = [r for shard in RunDir(out).shard_dirs() for r in read_records(shard.kept, QueryRecord)]
    return {"kept": len(kept), "dropped": funnel["dropped"], "source_rank": funnel["source_rank"],
            "kept_pairs": [(r.query, r.passage_id) for r in kept]}


# --------------------------------------------------------------------------- results
def kept_shape(kept_pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Do the kept pairs look like queries? Median words and how many have more than 20 words
    (a passage sentence that survived the copy filter and the round trip is not a query)."""
    words = sorted(len(q.split()) for q, _ in kept_pairs)
    median = (words[(len(words) - 1) // 2] + words[len(words) // 2]) / 2 if words else 0
    return {"kept_query_words_median": median, "kept_queries_over_20_words": sum(w > 20 for w in words)}


def side_summary(side: dict[str, Any], check: dict[str, Any], n_passages: int, rng: random.Random) -> dict[str, Any]:
    """The numbers compared for one side, and N_SHOWN sample queries (seeded) with their fate."""
    kept = Counter(pid for _, pid in check["kept_pairs"])
    kept_set = set(check["kept_pairs"])
    shown = rng.sample(side["pairs"], min(N_SHOWN, len(side["pairs"])))
    gen_s = side["generate_seconds"]
    return {
        "model_load_seconds": round(side["load_seconds"], 2), "generate_seconds": round(gen_s, 1),
        "completions": side["completions"], "parsed_queries": side["parsed"],
        "kept_pairs": check["kept"],
        "kept_pairs_per_hour": round(check["kept"] / gen_s * 3600, 1),
        "kept_pairs_per_hour_incl_load": round(check["kept"] / (gen_s + side["load_seconds"]) * 3600, 1),
        "passages_with_kept": len(kept), "passages": n_passages, "tokens": side["tokens"],
        "completion_tokens_per_s": round(side["tokens"]["completion"] / gen_s, 2),
        **kept_shape(check["kept_pairs"]),
        "dropped": check["dropped"], "source_rank": check["source_rank"],
        "sample_queries": [{"passage_id": p["passage_id"], "query": p["query"],
                            "kept": (p["query"], p["passage_id"]) in kept_set} for p in shown],
    }


def _cell(text: str) -> str:
    """`text` as one markdown table cell."""
    return " ".join(text.replace("|", "/").split())


def write_results(result: dict[str, Any], dest: Path) -> None:
    """vs_distilabel.json and a markdown table with the sample queries."""
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "vs_distilabel.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    s, d = result["synthir"], result["distilabel"]
    keys = ["model_load_seconds", "generate_seconds", "completions", "parsed_queries", "kept_pairs",
            "kept_pairs_per_hour", "kept_pairs_per_hour_incl_load", "passages_with_kept",
            "completion_tokens_per_s", "kept_query_words_median", "kept_queries_over_20_words"]
    rows = "\n".join(f"| {k} | {s[k]} | {d[k]} |" for k in keys)
    setup = result["setup"]
    title = (f"# synthir vs distilabel ({setup['passages']} passages of {setup['devset']}, "
             f"{setup['samples_per_passage']} samples each, {setup['model']})")
    ratio = (f"Kept pairs per hour, synthir / distilabel: **{result['ratio_kept_per_hour']}x** "
             "(target >= 2x).")
    drops = "\n".join(f"- {name}: parse {result[name].get('dropped_at_parse', {})}, "
                      f"check {result[name]['dropped']}" for name in ("synthir", "distilabel"))
    note = ("Dropped (synthir's parse rejects before the pairs reach the check; distilabel's parse "
            "is its `## Positive` regex):")
    lines = [title, "", ratio, "", "| | synthir | distilabel |", "|---|---:|---:|", rows, "", note, "", drops, "",
             f"Load average (1 min) before synthir / between / after distilabel: {result['load_average']}.", ""]
    for name in ("synthir", "distilabel"):
        lines += [f"## {name}: {N_SHOWN} sample queries (seeded)", "", "| passage | query | kept |", "|---|---|---|"]
        lines += [f"| {q['passage_id']} | {_cell(q['query'])} | {'yes' if q['kept'] else 'no'} |"
                  for q in result[name]["sample_queries"]]
        lines.append("")
    (dest / "vs_distilabel.md").write_text("\n".join(lines), encoding="utf-8")


def main(args: argparse.Namespace) -> None:
    """Both sides, the same check, the results files."""
    from importlib.metadata import version

    from synthir.config import load_config, validate_config
    from synthir.llm.models import gguf_path

    work = Path(args.work or tempfile.mkdtemp(prefix="vs-distilabel-"))
    corpus = Path(args.devset) / "passages.jsonl"
    overrides = [f"corpus.path={corpus}", f"sample.n={args.n}", f"sample.seed={args.seed}",
                 f"llm.threads={args.threads}", f"llm.temperature={args.temperature}", f"llm.top_p={args.top_p}",
                 f"llm.max_new_tokens={args.max_new_tokens}", f"llm.context_length={args.context_length}"]
    data = load_config(CONFIG, overrides, out=work / "synthir-run").model_dump()
    data["generation"]["queries"][0]["num_queries"] = args.samples  # --set has no list index
    cfg = validate_config(data)
    loads = [os.getloadavg()[0]]
    syn = run_synthir(cfg)
    loads.append(os.getloadavg()[0])
    dis = run_distilabel(args, syn["passages"], gguf_path(cfg.llm), work)
    loads.append(os.getloadavg()[0])
    checks = {name: roundtrip_check(cfg, side["pairs"], work / f"check-{name}")
              for name, side in (("synthir", syn), ("distilabel", dis))}
    rng = random.Random(args.seed)
    n = len(syn["passages"])
    result = {
        "setup": {"devset": Path(args.devset).name, "corpus_passages": sum(1 for _ in corpus.open()),
                  "passages": n, "sample_seed": args.seed, "samples_per_passage": args.samples,
                  "model": "embedded-instruct (" + gguf_path(cfg.llm).name + ")", "threads": args.threads,
                  "temperature": args.temperature, "top_p": args.top_p, "max_new_tokens": args.max_new_tokens,
                  "roundtrip": "synthir filter: cheap filters, use-multilingual, flat index, top_k "
                               f"{cfg.roundtrip.top_k} over the whole corpus",
                  "synthir": "promptagator, 4 pool examples per prompt, api chat with {\"query\": ...} grammar",
                  "distilabel": f"GenerateSentencePair(action='query', context={DISTILABEL_CONTEXT!r}), "
                                "LlamaCppLLM, task.load() + task.process(), no Pipeline",
                  "cpus": os.cpu_count(), "synthir_version": version("synthir"),
                  "llama_cpp_python": version("llama_cpp_python")},
        "load_average": " / ".join(f"{x:.2f}" for x in loads),
        "synthir": {**side_summary(syn, checks["synthir"], n, rng), "run_kept": syn["run_kept"],
                    "dropped_at_parse": syn["dropped_at_parse"]},
        "distilabel": {**side_summary(dis, checks["distilabel"], n, rng), "versions": dis["versions"],
                       "unparsed_raw_examples": dis["unparsed_raw"][:5]},
    }
    s, d = result["synthir"]["kept_pairs_per_hour"], result["distilabel"]["kept_pairs_per_hour"]
    result["ratio_kept_per_hour"] = round(s / d, 2) if d else None
    write_results(result, work if args.smoke else RESULTS)
    print(json.dumps({k: v for k, v in result.items() if k not in ("synthir", "distilabel")}, indent=2))
    for name in ("synthir", "distilabel"):
        print(name, {k: v for k, v in result[name].items() if k not in ("sample_queries", "source_rank")})


def parse_args() -> argparse.Namespace:
    """`main` options, or the `distilabel-worker` subcommand's."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd")
    w = sub.add_parser("distilabel-worker", help="(internal) the distilabel side, in distilabel's venv")
    w.add_argument("--passages", required=True)
    w.add_argument("--out", required=True)
    w.add_argument("--gguf", required=True)
    for p in (ap, w):
        p.add_argument("--samples", type=int, default=4, help="completions per passage (both sides)")
        p.add_argument("--threads", type=int, default=1, help="llama.cpp threads (both sides)")
        p.add_argument("--temperature", type=float, default=0.8)
        p.add_argument("--top-p", type=float, default=0.95)
        p.add_argument("--max-new-tokens", type=int, default=64)
        p.add_argument("--context-length", type=int, default=4096)
    ap.add_argument("--devset", default="/work/devsets/gnome-help/gedit+evince+eog-fr",
                    help="a dev set dir with passages.jsonl (id, text, title, lang)")
    ap.add_argument("--distilabel-python", default="/work/distilabel-venv/bin/python")
    ap.add_argument("--n", type=int, default=30, help="passages sampled (synthir's seeded sampler)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--work", default=None, help="work dir (default: a new temp dir)")
    ap.add_argument("--smoke", action="store_true", help="write the results into --work, not benchmarks/results")
    return ap.parse_args()


if __name__ == "__main__":
    ARGS = parse_args()
    if ARGS.cmd == "distilabel-worker":
        distilabel_worker(ARGS)
    else:
        main(ARGS)
