"""Proof of value: does training on synthir data make a retriever better on REAL questions?

    .venv/bin/python benchmarks/downstream.py --devset DIR [--devset DIR ...] \
        [--students minilm e5-small] [--losses mnrl mnrl+marginmse] [--seeds 0,1,2] \
        [--recipe configs/downstream.yaml] [--work .cache/downstream] [--tag NAME]

Each DIR is a dev set of real human questions (`synthir dev-set --source rfaq|gnome-help`):
a BEIR dir plus `passages.jsonl`, the same documents as a generation corpus. Per dev set:
  1. generate: `synthir.pipeline.run` with the recipe over the dev set's documents (every
     passage sampled; the dev queries are never shown to the generator; the contamination guard
     drops any generated query that near-copies a dev query);
  2. evaluate: `synthir.eval.harness.run_eval` per student and loss with a seeded human split
     (0.5): base, synthetic and human arms scored on the SAME test half, one fine-tune per seed,
     paired bootstrap CI of the nDCG@10 deltas.
Writes benchmarks/results/downstream[-TAG].json and .md (a table per dev set: base /
synthetic per loss / human, mean ± std over seeds, CIs), each eval's per-query scores under
benchmarks/results/per_query/downstream[-TAG]/ (inputs of `synthir eval-compare`), plus every
run's files under --work. A generation leaves `recipe.json` (the fingerprint of the resolved
config and few-shot count) beside its data; `--reuse-data` evaluates that data again only when
the fingerprint matches (one-line stop otherwise; data older than the record: unchecked, and
the results JSON says "recipe_checked": false). Each generation and eval record has its
`seconds` and `cpu_steal`: the share of CPU ticks the VM's host took for other guests meanwhile
(/proc/stat; null off Linux), so timings from different machines can be told apart; each eval
has `training` (per arm, every fine-tune's steps and seconds, and seconds per step), and
`machine` names the CPU.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from synthir.cli import seed_list
from synthir.embed.st import default_training

ROOT = Path(__file__).resolve().parents[1]
RECIPE_RECORD = "recipe.json"  # beside a dev set's data/: the fingerprint of the recipe that generated it
HUMAN_SPLIT = 0.5  # every eval's human-train share (seed 0); the few-shot examples come from it
# MiniLM: pairs, 3 epochs, lr 1e-4 moved French GNOME help by +0.145 (docs/results.md §8); the
# 10-epoch triplet recipe cost ~50 s a step on 2 shared cores. e5-small: the lr is swept with
# `--set e5-small.learning_rate=…` (docs/results.md says which won).
STUDENT_RECIPES: dict[str, dict[str, Any]] = {
    "minilm": {"config": "pairs", "epochs": 3.0, "batch_size": 32, "mini_batch_size": 0,
               "query_prefix": "", "passage_prefix": "",
               "max_seq_length": 256, "batching": "random", "max_rows": 0, "precision": "fp32",
               "chunk_rows": None, "freeze_layers": 0, "anchor": 0.0, "query_side": False,
               **default_training("minilm")},  # 256: MiniLM's own
    # 256 (not e5's 512): at 512 tokens x batch 32 MNRL fine-tuning took 23 GB and was OOM-killed
    # lr and MNRL scale: synthir eval's e5-small defaults (2e-5, 100: e5's training temperature
    # 0.01), chosen on the human-TRAIN half (§8p); until §8p: lr 1e-4, scale 20
    "e5-small": {"config": "pairs", "epochs": 3.0, "batch_size": 32, "mini_batch_size": 0,
                 "query_prefix": "query: ",
                 "passage_prefix": "passage: ", "max_seq_length": 256, "batching": "random",
                 "max_rows": 0, "precision": "fp32", "chunk_rows": None, "freeze_layers": 0, "anchor": 0.0,
                 "query_side": False,
                 **default_training("e5-small")},
}


def override(sets: list[str]) -> None:
    """Apply `student.key=value` overrides (e.g. `e5-small.learning_rate=3e-5`) to STUDENT_RECIPES,
    each value parsed (pydantic) as the type TrainOptions declares for the key; `none` where the
    type allows None (chunk_rows, max_seq_length, learning_rate, mnrl_scale: the default)."""
    import typing

    import pydantic

    from synthir.eval.train import TrainOptions

    hints = typing.get_type_hints(TrainOptions)
    for s in sets:
        key, _, value = s.partition("=")
        student, _, field = key.partition(".")
        if student not in STUDENT_RECIPES or field not in STUDENT_RECIPES[student] or not _:
            raise SystemExit(f"--set {s!r}: expected <student>.<key>=<value>, students {list(STUDENT_RECIPES)}, "
                             f"keys {list(STUDENT_RECIPES['minilm'])}")
        hint = hints[field]
        nullable = type(None) in typing.get_args(hint)
        if nullable and value.strip().lower() == "none":
            STUDENT_RECIPES[student][field] = None
            continue
        try:
            STUDENT_RECIPES[student][field] = pydantic.TypeAdapter(hint).validate_python(value)
        except pydantic.ValidationError:
            kinds = " or ".join(["none"] * nullable + [t.__name__ for t in typing.get_args(hint) or (hint,)
                                                     if t is not type(None)])
            raise SystemExit(f"--set {s!r}: {field} takes {kinds}, got {value!r}") from None


def _lang(devset: Path) -> str:
    meta = json.loads((devset / "devset.json").read_text(encoding="utf-8"))
    langs = meta.get("langs") or meta.get("languages") or [meta.get("lang", "en")]
    return langs[0] if isinstance(langs, list) else str(langs)


def fewshot_examples(devset: Path, n: int, dest: Path, seed: int = 0, max_chars: int = 500) -> dict[str, Any]:
    """Promptagator's in-domain few-shot examples for a dev set (`synthir examples`): `n`
    (question, page) pairs of the human-TRAIN half of the split every eval here uses (human
    split 0.5, seed 0), never from the test half; pages cut to `max_chars` (the prompt shows 4
    of them whole). Output: {"file", "n", "query_ids", ...} for the results JSON."""
    from synthir.eval.examples import human_train_examples

    return human_train_examples(devset, n, dest, fraction=HUMAN_SPLIT, seed=seed, max_chars=max_chars,
                                lang=_lang(devset))


def cpu_ticks(stat: str | None = None) -> tuple[int, int] | None:
    """(steal, total) clock ticks of all CPUs from the first line of /proc/stat (or `stat`, its
    text); None where there is none (not Linux). Steal is CPU time the VM's host gave to other
    guests; a high share slows every timing recorded here (docs/results.md §8az: 2.9% on a VM
    that ran at half speed, so there something else slowed it)."""
    if stat is None:
        try:
            stat = Path("/proc/stat").read_text(encoding="utf-8")
        except OSError:
            return None
    fields = stat.split("\n", 1)[0].split()
    if len(fields) < 5 or fields[0] != "cpu":
        return None
    ticks = [int(v) for v in fields[1:9]]  # user nice system idle iowait irq softirq steal (guest is in user)
    return (ticks[7] if len(ticks) > 7 else 0), sum(ticks)


def cpu_model(cpuinfo: str | None = None) -> str:
    """The CPU's model name from /proc/cpuinfo (or `cpuinfo`, its text), else
    `platform.processor()`. Recorded in `machine`, since timings differ by CPU: the AMD EPYC of
    docs/results.md §8bk (AVX512-BF16, no AMX) took about twice §8bc's time per e5-small step."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8")
        except OSError:
            cpuinfo = ""
    for line in cpuinfo.splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def steal_share(before: tuple[int, int] | None, after: tuple[int, int] | None) -> float | None:
    """The share of CPU ticks stolen between two `cpu_ticks` readings (None when unknown)."""
    if before is None or after is None or after[1] <= before[1]:
        return None
    return round((after[0] - before[0]) / (after[1] - before[1]), 3)


def generate(devset: Path, recipe: Path, work: Path, reuse: bool = False,
             fewshot: int = 0, recipe_sets: list[str] | None = None) -> tuple[Path, dict[str, Any]]:
    """Run the recipe over the dev set's documents; return (dataset dir, funnel summary).
    `fewshot` > 0: every query method's examples are that many human-train pairs (fewshot_examples);
    for `method: sap` the recipe's LLM adds each one's summary (synthir.generators.summaries), in
    a copy of the file when other methods share the run.
    `recipe_sets`: config overrides (`key=value`, as `synthir run --set`) applied after the dev set's."""
    from synthir.config import load_config
    from synthir.pipeline import run

    n = sum(1 for _ in (devset / "passages.jsonl").open(encoding="utf-8"))
    lang = _lang(devset)
    out = work / devset.name / "data"
    sets = [f"corpus.path={devset / 'passages.jsonl'}", f"sample.n={n}", f"languages=[{lang}]",
            f"contamination.beir_dirs=[{devset}]"]
    record = work / devset.name / RECIPE_RECORD
    resolved = load_config(recipe, sets + list(recipe_sets or []))  # before the examples files are set
    fingerprint = recipe_fingerprint(resolved, fewshot, devset)
    if reuse and (out / "funnel.json").is_file():  # published before: evaluate it as it is
        checked = _check_reuse(record, fingerprint, out)
        summary = _summary(out, lang, json.loads((out / "funnel.json").read_text(encoding="utf-8")))
        return out, {**summary, "recipe_checked": checked}
    shots, summarized = None, None
    if fewshot:
        examples = work / devset.name / "fewshot.jsonl"
        shots = fewshot_examples(devset, fewshot, examples)
        methods = resolved.generation.queries
        sap = {i for i, m in enumerate(methods) if m.method == "sap"}
        if sap:  # SWIM-IR's examples carry a summary; other methods keep the plain file
            summarized = examples if len(sap) == len(methods) else examples.with_name("fewshot-sap.jsonl")
            if summarized != examples:
                shutil.copyfile(examples, summarized)
        sets += [f"generation.queries[{i}].examples_file={summarized if i in sap else examples}"
                 for i in range(len(methods))]
    cfg = load_config(recipe, sets + list(recipe_sets or []), out=out)
    t0 = time.time()
    ticks = cpu_ticks()
    if shots and summarized:
        from synthir.generators.summaries import summarize_file

        rows = summarize_file(summarized, cfg)
        shots.update(summaries=[r["summary"] for r in rows], summary_prompt_sha256=rows[0]["summary_prompt_sha256"])
    record.unlink(missing_ok=True)  # a run stopped half-way leaves no record: its data is not reusable as checked
    result = run(cfg, progress=False)
    record.write_text(json.dumps({"sha256": fingerprint, "recipe": recipe.name, "recipe_overrides": recipe_sets or [],
                                  "fewshot_human": fewshot}, indent=1) + "\n", encoding="utf-8")
    return out, {**_summary(out, lang, {"funnel": result["funnel"], "rows": result["rows"]}),
                 "seconds": round(time.time() - t0, 1), "cpu_steal": steal_share(ticks, cpu_ticks()),
                 **({"fewshot_human_train": shots} if shots else {})}


def recipe_fingerprint(cfg: Any, fewshot: int, devset: Path) -> str:
    """sha256 of the resolved run config `cfg` (recipe + overrides, before the examples files
    are set; its `name` left out; dev set and repo paths made relative), plus the few-shot
    count: two invocations that would generate the same data (e.g. a recipe file, or its
    parent with the same task as `--recipe-set`) share it. Not rundir.config_fingerprint: that
    one keeps `name` and hashes the examples files, which a reuse check would have to rewrite."""
    from synthir.ids import sha256_text

    text = json.dumps(cfg.model_dump(mode="json", exclude={"name"}), sort_keys=True)
    text = text.replace(str(devset), "<devset>").replace(str(ROOT), "<root>")
    return sha256_text(f"{text}|fewshot_human={fewshot}")


def _check_reuse(record: Path, fingerprint: str, out: Path) -> bool:
    """--reuse-data: True when `record` (written when the data was generated) names the same
    recipe; False when the data predates such records (evaluated unchecked, as the results
    JSON says); SystemExit (one line) when it names another recipe."""
    if not record.is_file():
        print(f"downstream: {out} has no {RECIPE_RECORD} (generated before it was kept): reusing it unchecked",
              file=sys.stderr)
        return False
    try:
        old = json.loads(record.read_text(encoding="utf-8"))
        if not isinstance(old, dict):
            raise ValueError("not a JSON object")
    except (OSError, ValueError) as e:
        raise SystemExit(f"downstream: --reuse-data: {record} is unreadable ({e}); drop --reuse-data to "
                         "regenerate") from None
    if old.get("sha256") != fingerprint:
        raise SystemExit(f"downstream: --reuse-data: {out} was generated by another recipe ({old.get('recipe')} "
                         f"with {len(old.get('recipe_overrides', []))} override(s), --fewshot-human "
                         f"{old.get('fewshot_human')}); drop --reuse-data to regenerate, or use another --work")
    return True


def published_pairs(queries: dict[str, int]) -> int:
    """The pairs a run published, from funnel.json's `queries` counts: those the judge stage
    kept when it ran (it drops and relabels after the round trip), else the round trip's."""
    return queries.get("judge_kept", queries["roundtrip_kept"])


def _summary(out: Path, lang: str, published: dict[str, Any]) -> dict[str, Any]:
    """The generation numbers of a published dev-set dataset (funnel.json's content)."""
    f = published["funnel"]
    kept_passages = len({r["positive_id"] for r in _rows(out, "pairs")})
    return {"lang": lang, "passages": f["sample"]["sampled"], "prompts": f["queries"]["prompts"],
            "parsed": f["queries"]["parsed"], "roundtrip_kept": f["queries"]["roundtrip_kept"],
            "kept_pairs": published_pairs(f["queries"]),
            "passages_with_a_kept_query": kept_passages, "rows": published.get("rows", {}),
            "seconds": round(sum(f.get("seconds", {}).values()), 1) if isinstance(f.get("seconds"), dict) else None,
            "tokens": f["tokens"], "dropped": f["dropped"], "passage_yield": f.get("passage_yield", {}),
            "query_form": f.get("query_form", {})}


def _rows(dataset: Path, config: str) -> list[dict[str, Any]]:
    from datasets import load_dataset

    try:
        return list(load_dataset(str(dataset), config, split="train"))
    except ValueError:  # config not published (no rows)
        return []


def evaluate(dataset: Path, devset: Path, student: str, loss: str, seeds: list[int], out: Path,
             shown: Path | None = None, train_shown: bool = False, keep_models: bool = False) -> dict[str, Any]:
    """`run_eval` with the student's recipe and the human split; synthetic − base also over the
    human-train questions never shown to the generator (`shown`: its examples file, None when
    it was shown none; eval/unseen.py); `train_shown`: the synthetic arm also trains on those
    examples' pairs (`synthir eval --train-shown`); `keep_models`: every seed's students saved
    (`synthir eval --keep-models`, for benchmarks/soup.py --seeds)."""
    from synthir.eval.harness import EvalOptions, run_eval
    from synthir.eval.train import TrainOptions

    r = STUDENT_RECIPES[student]
    opts = TrainOptions(loss=loss, config=r["config"], epochs=r["epochs"], learning_rate=r["learning_rate"],
                        batch_size=r["batch_size"], mini_batch_size=r["mini_batch_size"],
                        max_seq_length=r["max_seq_length"], mnrl_scale=r["mnrl_scale"],
                        batching=r["batching"], max_rows=r["max_rows"], precision=r["precision"],
                        chunk_rows=r["chunk_rows"], freeze_layers=r["freeze_layers"], anchor=r["anchor"],
                        query_side=r["query_side"])
    t0, ticks = time.time(), cpu_ticks()
    res = run_eval(dataset, devset, out, model=student, opts=opts, query_prefix=r["query_prefix"],
                   passage_prefix=r["passage_prefix"],
                   eval_opts=EvalOptions(seeds=seeds, human_split=HUMAN_SPLIT, score_unseen=shown or "none",
                                         train_shown=train_shown, keep_models=keep_models))
    comp = res["comparison"]
    recipe = {**r, "precision": res["info"]["options"]["precision"]}  # as the eval resolved it (`auto`)
    return {"student": student, "loss": loss, "recipe": recipe, "arms": {a: s["all"] for a, s in comp["arms"].items()},
            "deltas": {k: v["all"] for k, v in comp["deltas"].items() if "all" in v},
            "deltas_seeds": {k: v["all"] for k, v in comp.get("deltas_seeds", {}).items() if "all" in v},
            "test_queries": res["info"]["queries"]["all"], "unseen": comp["unseen"],
            "train_rows_shown_examples": res["info"]["train_rows_shown_examples"],
            "training": training_times(res["info"].get("training", {})),
            "seconds": round(time.time() - t0, 1), "cpu_steal": steal_share(ticks, cpu_ticks())}


def training_times(training: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per arm, the fine-tunes' steps and seconds from eval.json's `training` ({arm: {"runs":
    [{"seed", "steps", "seconds", ...}]}}), and the seconds per step over all its runs: what
    tells a slower CPU from more rows (docs/results.md §8bk could only estimate §8bc's)."""
    out: dict[str, dict[str, Any]] = {}
    for arm, t in training.items():
        runs = [{"seed": r["seed"], "steps": r["steps"], "seconds": r["seconds"]} for r in t.get("runs", [])]
        steps = sum(r["steps"] for r in runs)
        out[arm] = {"runs": runs, "seconds_per_step":
                    round(sum(r["seconds"] for r in runs) / steps, 2) if steps else None}
    return out


def _training_line(e: dict[str, Any]) -> str:
    """'student / loss, fine-tunes: synthetic 3 × 63 steps, 10.2 s per step; human …' (empty for
    results recorded before `training` was)."""
    t = e.get("training")
    if not t:
        return ""
    parts = [f"{arm} {len(x['runs'])} × {x['runs'][0]['steps']} steps, {x['seconds_per_step']} s per step"
             for arm, x in t.items() if x["runs"] and x["seconds_per_step"] is not None]
    return f"\n{e['student']} / {e['loss']}, fine-tunes: " + "; ".join(parts) + "." if parts else ""


def keep_per_query(eval_dir: Path, dest: Path) -> None:
    """Copy an eval's per-query scores (per_query.json) to `dest`/per_query.json under
    benchmarks/results, the BEIR path reduced to the dev set's name (nothing local published):
    `synthir eval-compare` and benchmarks/pooled.py read such a dir as an eval dir, so recipes
    stay comparable question by question after the work dirs are gone."""
    data = json.loads((eval_dir / "per_query.json").read_text(encoding="utf-8"))
    data["beir"] = Path(data["beir"]).name
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "per_query.json").write_text(json.dumps(data) + "\n", encoding="utf-8")


def _steal(timed: dict[str, Any]) -> str:
    """The generation line's ' (CPU steal N%)' when the record has a steal share (older results
    have none: empty)."""
    x = timed.get("cpu_steal")
    return f" (CPU steal {x:.0%})" if x is not None else ""


def _cell(s: dict[str, Any]) -> str:
    return f"{s['mean']:.3f}" + (f" ± {s['std']:.3f}" if s.get("n", 1) > 1 else "")


def markdown(results: dict[str, Any]) -> str:
    lines = ["# Downstream: base vs synthetic vs human (nDCG@10 on the real-question test half)", "",
             f"- machine: {results['machine']}; seeds {results['seeds']}; recipe `{results['recipe']}`"
             + "".join(f" `{o}`" for o in results.get("recipe_overrides", []))
             + ("; the synthetic arm also trains on the shown examples (`--train-shown`)"
                if results.get("train_shown") else ""), ""]
    for ds in results["devsets"]:
        g = ds["generation"]
        lines += [f"## {ds['devset']} ({g['lang']})", "",
                  f"Generation: {g['passages']} passages -> {g['prompts']} samples -> {g['parsed']} parsed -> "
                  f"{g['kept_pairs']} kept pairs ({g['passages_with_a_kept_query']} passages with >= 1 kept "
                  f"query) in {g['seconds']} s{_steal(g)}; distill rows {g['rows'].get('distill', 0)}.", "",
                  "| student | loss | test q | base | synthetic | human | synthetic − base (95% CI) | "
                  "synthetic − human (95% CI) |", "|---|---|---:|---:|---:|---:|---|---|"]
        for e in ds["evals"]:
            a, d = e["arms"], e["deltas"]

            def ci(key: str) -> str:
                x = d.get(key)
                return f"{x['mean']:+.3f} [{x['ci_low']:+.3f}, {x['ci_high']:+.3f}]" if x else "-"
            lines.append(f"| {e['student']} | {e['loss']} | {e['test_queries']} | {_cell(a['base']['ndcg@10'])} | "
                         f"{_cell(a['synthetic']['ndcg@10'])} | {_cell(a['human']['ndcg@10']) if 'human' in a else '-'} | "
                         f"{ci('synthetic-base')} | {ci('synthetic-human')} |")
        for e in ds["evals"]:
            ms = e.get("deltas_seeds") or {}
            if ms:
                lines.append(f"\n{e['student']} / {e['loss']}, the seeds resampled too (Multi-Bootstrap): "
                             + ", ".join(f"{k.replace('-', ' − ')} [{x['ci_low']:+.3f}, {x['ci_high']:+.3f}]"
                                         for k, x in ms.items()) + ".")
        for e in ds["evals"]:
            if e.get("unseen"):
                u, x = e["unseen"], e["unseen"]["delta"]
                lines.append(f"\n{e['student']} / {e['loss']}, every question the synthetic arm never saw "
                             f"({u['queries']}: the test half + {u['queries'] - u['test_queries']} human-train, "
                             f"{u['left_out']} left out as shown, trained on or worded as a test question): "
                             f"base {u['base']:.3f}, synthetic "
                             f"{u['synthetic']:.3f}, synthetic − base {x['mean']:+.3f} [{x['ci_low']:+.3f}, "
                             f"{x['ci_high']:+.3f}].")
        lines += [line for e in ds["evals"] if (line := _training_line(e))]
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--devset", action="append", required=True, type=Path)
    ap.add_argument("--students", nargs="+", default=["minilm", "e5-small"])
    ap.add_argument("--losses", nargs="+", default=["mnrl", "mnrl+marginmse"])
    ap.add_argument("--seeds", type=seed_list, default="0,1,2")
    ap.add_argument("--recipe", type=Path, default=ROOT / "configs" / "downstream.yaml")
    ap.add_argument("--work", type=Path, default=ROOT / ".cache" / "downstream")
    ap.add_argument("--tag", default="")
    ap.add_argument("--reuse-data", action="store_true",
                    help="evaluate a dev set's already published dataset instead of running the recipe again")
    ap.add_argument("--fewshot-human", type=int, default=0, metavar="N",
                    help="Promptagator's in-domain examples: N (question, page) pairs of the human-TRAIN half "
                         "as the query method's examples_file (at most 8; never a test question)")
    ap.add_argument("--train-shown", action="store_true",
                    help="the synthetic arm also trains on the --fewshot-human examples' (question, page) pairs")
    ap.add_argument("--keep-models", action="store_true",
                    help="keep every seed's students in the eval dir (synthir eval --keep-models)")
    ap.add_argument("--recipe-set", dest="recipe_sets", action="append", default=[], metavar="KEY=VALUE",
                    help="override the generation recipe as `synthir run --set` does, e.g. "
                         "embedder.name=sentence-transformers (recorded in the results)")
    ap.add_argument("--set", dest="sets", action="append", default=[], metavar="STUDENT.KEY=VALUE",
                    help="override a student recipe, e.g. e5-small.learning_rate=3e-5")
    a = ap.parse_args(argv)
    override(a.sets)
    for devset in a.devset:  # before any work: a typo in the 2nd dev set must not cost the 1st's hour
        missing = [f for f in ("passages.jsonl", "devset.json") if not (devset / f).is_file()]
        if missing:
            raise SystemExit(f"downstream: --devset {devset} is not a dev set (no {', '.join(missing)}); "
                             "build one with `synthir dev-set`")
    seeds = a.seeds
    name = "downstream" + (f"-{a.tag}" if a.tag else "")
    out_json = ROOT / "benchmarks" / "results" / f"{name}.json"
    results: dict[str, Any] = {"machine": f"{platform.machine()}, {os.cpu_count()} CPUs ({cpu_model()}), no GPU",
                               "seeds": seeds,
                               "recipe": str(a.recipe.relative_to(ROOT) if a.recipe.is_relative_to(ROOT) else a.recipe.name),
                               "recipe_overrides": a.recipe_sets, "train_shown": a.train_shown, "students": STUDENT_RECIPES,
                               "devsets": []}
    for devset in a.devset:
        dataset, gen = generate(devset, a.recipe, a.work, reuse=a.reuse_data, fewshot=a.fewshot_human,
                                recipe_sets=a.recipe_sets)
        entry: dict[str, Any] = {"devset": devset.name, "generation": gen, "evals": []}
        results["devsets"].append(entry)
        for student in a.students:
            for loss in a.losses:
                if "marginmse" in loss and not gen["rows"].get("distill"):
                    continue
                eval_dir = a.work / devset.name / (f"eval-{student}-{loss}" + (f"-{a.tag}" if a.tag else ""))
                shown = a.work / devset.name / "fewshot.jsonl"  # the examples, whichever run wrote them
                if a.train_shown and not shown.is_file():
                    raise SystemExit(f"--train-shown: {devset.name} has no examples file; run with --fewshot-human N")
                entry["evals"].append(evaluate(dataset, devset, student, loss, seeds, eval_dir,
                                               shown if shown.is_file() else None, a.train_shown,
                                               keep_models=a.keep_models))
                keep_per_query(eval_dir, ROOT / "benchmarks" / "results" / "per_query" / name
                               / f"{devset.name}-{student}-{loss}")
                out_json.parent.mkdir(parents=True, exist_ok=True)
                out_json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
                out_json.with_suffix(".md").write_text(markdown(results), encoding="utf-8")
                print(markdown(results), flush=True)
    return 0


if __name__ == "__main__":
    from synthir.errors import SynthirError
    try:
        sys.exit(main())
    except SynthirError as e:  # a config or input the run cannot use: one line, as the CLI prints it
        sys.exit(f"downstream: {e}")
