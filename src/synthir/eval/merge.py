"""Pool the seeds of several `synthir eval` runs of one recipe (`synthir eval-merge`).

A 3-seed result is often run in pieces: seed 0 first, to see whether a recipe is worth more
compute, then seeds 1 and 2 (`--seeds 1,2`) on the same dataset. Each run's comparison.json
then holds a mean and an interval over its own seeds only; averaging the two runs' means gives
the pooled mean but no interval. This module joins the runs' per-query scores (per_query.json,
written by `run_eval`) into one eval dir, as if the seeds had been run together, and recomputes
comparison.json from them: every arm's mean ± spread over all seeds and the paired bootstrap of
the nDCG@10 differences, each query's score being its mean over all seeds (eval/compare.py;
Efron & Tibshirani 1993). `synthir eval-compare` and benchmarks/pooled.py read the merged dir
like any eval dir.

Same recipe, checked: the runs must share the qrels split and test queries, every arm, the
base model's per-query scores (the untrained model is scored once per run; equal scores mean
the same model and corpus), disjoint seeds, and -- where the runs recorded it (per_query.json's
"training", or eval.json beside it) -- the student, the training rows and every training
option but the seed. Runs that recorded neither are merged with "recipe_checked": false. Runs that
recorded the fingerprint of their synthetic data (`data_sha256`) must share it: other data of the
same recipe is a fresh generation draw, which `--draws` pools (eval/draws.py).

Inputs: two or more eval dirs (per_query.json each; eval.json optional), the output dir.
Output (in OUT): per_query.json (seeds in the order the dirs were given), comparison.json
(+ "unseen" when every run kept its unseen-question scores, `--score-unseen`), metrics.json
and merge.json {"merged_from": each dir as parent/name, "seeds", "recipe_checked", "base_max_diff"}.
Bad input: one-line InputError.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from synthir.errors import InputError
from synthir.eval.compare import BOOTSTRAP_METRIC, compare
from synthir.eval.unseen import unseen_summary
from synthir.eval.versus import PER_QUERY, load_per_query
from synthir.io.files import write_json_atomic

BASE_TOLERANCE = 1e-3  # per query and metric: encoding on CPU is deterministic up to float noise
# options that may differ between the pieces of one recipe (score_unseen: a local path; the
# unseen questions themselves are compared instead; device: where it ran, not what it trained;
# keep_models: what was saved afterwards, not what was trained; chunk_rows: how each forward was
# cut, the same loss up to float rounding and dropout's draw, docs/results.md §8bn)
NOT_RECIPE = ("seed", "seeds", "bootstrap_seed", "resamples", "score_unseen", "device", "keep_models",
              "chunk_rows")
# options added after runs had recorded their training, left out at their default so that a
# run recorded before and one after still compare equal
LATER_DEFAULTS: dict[str, Any] = {"max_rows": 0, "train_shown": False, "precision": "fp32",
                                   "mini_batch_size": 0, "freeze_layers": 0,
                                   "anchor": 0.0, "query_side": False}


def recorded_recipe(rec: dict[str, Any], where: Path) -> dict[str, Any] | None:
    """What the run trained: per_query.json's "training", else the same read from eval.json
    beside it; None when neither is there."""
    if "training" in rec:  # options stored at a later default (an older run lacks them) compare as absent
        t = rec["training"]
        return {**t, "options": recipe_options(t.get("options", {}))}
    info_path = Path(where) / "eval.json"
    if not info_path.is_file():
        return None
    try:
        info = json.loads(info_path.read_text(encoding="utf-8"))
        return training_record(info["model"], {a: t["rows"] for a, t in info["training"].items()}, info["options"])
    except (json.JSONDecodeError, KeyError, TypeError) as e:
        raise InputError(f"{info_path}: not an eval.json ({type(e).__name__}: {e})") from None


def training_record(model: str, rows: dict[str, int], options: dict[str, Any]) -> dict[str, Any]:
    """per_query.json's "training": the student, training rows per arm and every option that
    decides the trained model (seeds, bootstrap settings and the unseen-questions file left
    out, and options added later left out at their default (LATER_DEFAULTS); a student given as
    a folder is named by the folder's name, no local path)."""
    return {"model": Path(model).name if "/" in model or "\\" in model else model, "rows": dict(rows),
            "options": recipe_options(options)}


def recipe_options(options: dict[str, Any]) -> dict[str, Any]:
    """The options that decide the trained model, sorted: NOT_RECIPE left out, and LATER_DEFAULTS
    left out at their default."""
    return {k: v for k, v in sorted(options.items())
            if k not in NOT_RECIPE and not (k in LATER_DEFAULTS and v == LATER_DEFAULTS[k])}


def base_diff(a: dict[str, dict[str, float]], b: dict[str, dict[str, float]]) -> float:
    """Largest per-query difference between two base runs (every metric, the union of ids)."""
    worst = 0.0
    for m in set(a) | set(b):
        ma, mb = a.get(m, {}), b.get(m, {})
        for q in set(ma) | set(mb):
            if q not in ma or q not in mb:
                return float("inf")
            worst = max(worst, abs(ma[q] - mb[q]))
    return worst


def same_tests(recs: list[dict[str, Any]], dirs: list[Path], unseen: bool = True) -> float:
    """InputError (one line, naming the dir) unless every run was tested on the first one's
    queries, with its arms and its base model's scores (and, with `unseen`, where every run kept
    them, on its unseen questions); else the largest base difference."""
    first, d0 = recs[0], dirs[0]
    for rec, d in zip(recs, dirs):
        if rec["qrels_split"] != first["qrels_split"] or sorted(rec["test_qids"]) != sorted(first["test_qids"]):
            raise InputError(f"{d} was not tested on the same queries as {d0} (use the same BEIR dir, qrels "
                             "split and --human-split / --human-split-seed)")
        if sorted(rec["arms"]) != sorted(first["arms"]):
            raise InputError(f"{d} has the arms {', '.join(sorted(rec['arms']))}, {d0} has "
                             f"{', '.join(sorted(first['arms']))}")
    worst = max(base_diff(first["arms"]["base"][0], r["arms"]["base"][0]) for r in recs[1:])
    if unseen and all("unseen" in r for r in recs):
        for rec, d in zip(recs[1:], dirs[1:]):
            if sorted(rec["unseen"]["qids"]) != sorted(first["unseen"]["qids"]):
                raise InputError(f"{d} and {d0} scored different unseen questions (the same --score-unseen "
                                 "file and training rows?)")
            worst = max(worst, base_diff({"u": first["unseen"]["base"]}, {"u": rec["unseen"]["base"]}))
    if worst > BASE_TOLERANCE:
        raise InputError(f"the base model scores differently in {d0} and the other runs (largest per-query "
                         f"difference {worst:.4f}): not the same student, corpus or prefixes")
    return worst


def _check(recs: list[dict[str, Any]], dirs: list[Path]) -> tuple[bool, float]:
    """InputError (one line, naming the dir) when a run is not a piece of the first one's
    recipe; else (whether the recipe was checked, the largest base difference)."""
    first, d0 = recs[0], dirs[0]
    seen_seeds: dict[int, Path] = {}
    for rec, d in zip(recs, dirs):
        for s in rec["seeds"]:
            if s in seen_seeds:
                _same_data(rec, first, d, d0)
                raise InputError(f"seed {s} is in both {seen_seeds[s]} and {d}: each seed may be merged once")
            seen_seeds[s] = d
    worst = same_tests(recs, dirs)
    recipes = [recorded_recipe(r, d) for r, d in zip(recs, dirs)]
    if any(r is None for r in recipes):
        return False, worst
    for r, d in zip(recipes[1:], dirs[1:]):
        if r != recipes[0]:
            what = ", ".join([x for x in ("model", "rows") if r[x] != recipes[0][x]] + option_diff(r, recipes[0]))
            raise InputError(f"{d} trained another recipe than {d0} (differs in: {what})")
    for rec, d in zip(recs[1:], dirs[1:]):  # the same recipe, rows included: is it the same data?
        _same_data(rec, first, d, d0)
    return True, worst


def option_diff(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """The training options two recorded recipes set differently, sorted."""
    return sorted(k for k in set(a["options"]) | set(b["options"]) if a["options"].get(k) != b["options"].get(k))


def _same_data(rec: dict[str, Any], first: dict[str, Any], d: Path, d0: Path) -> None:
    """InputError when both runs recorded their synthetic data's fingerprint and it differs."""
    if rec.get("data_sha256") and first.get("data_sha256") and rec["data_sha256"] != first["data_sha256"]:
        raise InputError(f"{d} trained on other synthetic data than {d0} (a fresh generation draw?): "
                         "`synthir eval-merge --draws` pools draws")


def short_name(d: Path) -> str:
    """A merged dir's name as recorded: its parent's name and its own (no local path)."""
    return "/".join(Path(d).resolve().parts[-2:])


def merge_evals(dirs: list[Path], out: Path, resamples: int = 1000, seed: int = 0) -> dict[str, Any]:
    """Merge the eval dirs `dirs` into `out` (see the module doc); returns
    {"comparison", "merge", "groups"}."""
    dirs = [Path(d) for d in dirs]
    if len(dirs) < 2:
        raise InputError("eval-merge needs at least two eval dirs")
    if Path(out).resolve() in {d.resolve() for d in dirs}:
        raise InputError(f"{out}: the output dir must not be one of the merged dirs")
    recs = [load_per_query(d) for d in dirs]
    checked, worst = _check(recs, dirs)
    first = recs[0]
    test_qids = list(first["test_qids"])
    groups = first.get("groups") or {"all": test_qids}
    arms = {a: (first["arms"]["base"] if a == "base" else [run for r in recs for run in r["arms"][a]])
            for a in first["arms"]}
    seeds = [s for r in recs for s in r["seeds"]]
    comparison = compare(arms, groups, resamples, seed)
    names = [short_name(d) for d in dirs]
    record: dict[str, Any] = {**first, "seeds": seeds, "arms": arms, "merged_from": names}
    sha = next((r["data_sha256"] for r in recs if r.get("data_sha256")), None)
    if sha:
        record["data_sha256"] = sha
    if all("unseen" in r for r in recs):
        u = first["unseen"]
        pooled = [run for r in recs for run in r["unseen"]["synthetic"]]
        record["unseen"] = {**u, "synthetic": pooled}
        test_syn = [r[BOOTSTRAP_METRIC] for r in arms["synthetic"]]
        comparison["unseen"] = unseen_summary(
            {**arms["base"][0][BOOTSTRAP_METRIC], **u["base"]}, [{**t, **p} for t, p in zip(test_syn, pooled)],
            test_qids, u["qids"], u["train_queries"], u["shown"], resamples, seed)
    else:
        record.pop("unseen", None)
    merge = {"merged_from": names, "seeds": seeds, "recipe_checked": checked,
             "base_max_diff": round(worst, 6)}
    return write_merged(Path(out), record, comparison, merge, groups)


def write_merged(out: Path, record: dict[str, Any], comparison: dict[str, Any], merge: dict[str, Any],
                 groups: dict[str, list[str]]) -> dict[str, Any]:
    """Write a merged eval dir (per_query.json, comparison.json, metrics.json, merge.json);
    returns {"comparison", "merge", "groups": {group: query count}}."""
    out.mkdir(parents=True, exist_ok=True)
    key = {"base": "base", "synthetic": "tuned", "human": "human"}
    metrics = {key.get(a, a): {m: s["mean"] for m, s in summary["all"].items()}
               for a, summary in comparison["arms"].items() if "all" in summary}
    write_json_atomic(out / PER_QUERY, record)
    write_json_atomic(out / "comparison.json", comparison)
    write_json_atomic(out / "metrics.json", metrics)
    write_json_atomic(out / "merge.json", merge)
    return {"comparison": comparison, "merge": merge, "groups": {g: len(q) for g, q in groups.items()}}


def merge_text(result: dict[str, Any]) -> str:
    """The terminal report: per arm mean ± std over the pooled seeds (all test queries), the
    nDCG@10 differences with their intervals, and the unseen-question line when there is one."""
    comp, merge = result["comparison"], result["merge"]
    lines = [f"merged {len(merge['merged_from'])} runs: seeds {','.join(map(str, merge['seeds']))} on "
             f"{result['groups'].get('all', 0)} test queries"
             + ("" if merge["recipe_checked"] else " (recipe not checked: the runs recorded no training options)")]
    return "\n".join(lines + result_lines(comp, "seeds"))


def result_lines(comp: dict[str, Any], by: str) -> list[str]:
    """A merged comparison's lines: per arm the nDCG@10 mean (± std over its runs), each
    difference with its interval over the questions and, `by` "seeds" or "draws", the one that
    resamples those too (comparison.json's `deltas_seeds` / `deltas_draws`), and the unseen line."""
    lines = []
    for arm, summary in comp["arms"].items():
        s = summary["all"][BOOTSTRAP_METRIC]
        unit = "draws" if by == "draws" and arm == "synthetic" else "runs"
        lines.append(f"  {arm:<10} nDCG@10 {s['mean']:.4f}" + (f" ± {s['std']:.4f} ({s['n']} {unit})" if s["n"] > 1 else ""))
    for pair, d in comp["deltas"].items():
        if "all" in d:
            x = d["all"]
            ms = comp.get(f"deltas_{by}", {}).get(pair, {}).get("all")
            lines.append(f"  {pair:<18} {x['mean']:+.4f} [{x['ci_low']:+.4f}, {x['ci_high']:+.4f}]"
                         + (f"; {by} resampled too [{ms['ci_low']:+.4f}, {ms['ci_high']:+.4f}]" if ms else ""))
    if "unseen" in comp:
        u, d = comp["unseen"], comp["unseen"]["delta"]
        ms = u.get(f"delta_{by}")
        which = "every unseen question" if by == "seeds" else "every question unseen by every draw"
        lines.append(f"  {which} ({u['queries']}): base {u['base']:.4f}, synthetic {u['synthetic']:.4f}, "
                     f"synthetic-base {d['mean']:+.4f} [{d['ci_low']:+.4f}, {d['ci_high']:+.4f}]"
                     + (f"; {by} resampled too [{ms['ci_low']:+.4f}, {ms['ci_high']:+.4f}]" if ms else ""))
    return lines

