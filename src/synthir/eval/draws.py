"""Pool fresh generation draws of one recipe (`synthir eval-merge --draws`).

A recipe's gain has two sources of chance: the training seed, which the Multi-Bootstrap of
`synthir eval` resamples (eval/bootstrap.py), and the generation draw itself: the same recipe
run again with another sampling seed (`sample.seed`) writes other queries, keeps other pairs and
trains another student. One draw's interval says how sure we are about *that dataset*; a user
who runs the recipe on their own corpus gets a fresh draw. This module pools several draws, each
evaluated with `synthir eval` on the same BEIR dir and human split (one or several training
seeds each), into one eval dir whose synthetic arm is the recipe over draws:

- each draw's per-query scores are averaged over its seeds, and the synthetic arm is the mean
  over draws (every draw weighs the same, whatever its seed count);
- "deltas_draws": the bootstrap resamples the questions (paired) and the draws with
  replacement, each drawn draw with its seeds kept together: resampling the top level of
  nested data (Davison & Hinkley, "Bootstrap Methods and their Application", 1997, §3.8;
  Ren et al., "Nonparametric bootstrapping for hierarchical data", J. Appl. Stat. 2010). A
  draw's mean already carries its seeds' noise. The human arm's seeds are resampled as in the
  Multi-Bootstrap. With few draws it understates their spread ((n − 1)/n of the variance);
- "deltas" (questions only) and the arms' spread, now over draws, as `synthir eval` reports
  them.

Checks: the runs share the qrels split, test queries, arms and base scores (as eval-merge
checks), and the student and every training option; the human arm's rows too. Only the
synthetic rows may differ. Dirs whose synthetic data has the same fingerprint (`data_sha256`,
recorded by `synthir eval` since it was added) are pieces of one draw and are pooled as one;
a seed trained twice on the same data (identical scores) is refused. The human arm trains on
the same rows in every dir: each seed is kept once (the first), and `human_max_diff` records how
far a repeat differed. Unseen questions (`--score-unseen`): those unseen in every draw.

Inputs: eval dirs (per_query.json each), the output dir. Output (in OUT): per_query.json
(synthetic runs: one per draw, its mean over seeds; "draws"), comparison.json (+ "deltas_draws",
+ "unseen"), metrics.json, merge.json {"mode": "draws", "draws": [{"dirs", "seeds", "rows"}],
"recipe_checked", "base_max_diff", "human_max_diff"}. Bad input: one-line InputError.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from synthir.errors import InputError
from synthir.eval.compare import BOOTSTRAP_METRIC, compare
from synthir.eval.merge import (base_diff, option_diff, recorded_recipe, result_lines, same_tests, short_name,
                                 write_merged)
from synthir.eval.unseen import unseen_summary
from synthir.eval.versus import load_per_query

Scores = dict[str, dict[str, float]]  # metric -> query id -> value


def _mean_run(runs: list[Scores]) -> Scores:
    """Per metric and query, the mean over `runs` (a query missing from a run scores 0)."""
    out: Scores = {}
    for m in runs[0]:
        qids = set().union(*(r.get(m, {}) for r in runs))
        out[m] = {q: sum(r.get(m, {}).get(q, 0.0) for r in runs) / len(runs) for q in sorted(qids)}
    return out


def _group(recs: list[dict[str, Any]], dirs: list[Path]) -> list[list[int]]:
    """Indices of the dirs of each draw: dirs with the same `data_sha256` are one draw, the
    others one draw each (in the order given); InputError when a seed of one draw repeats."""
    draws: list[list[int]] = []
    by_sha: dict[str, int] = {}
    for i, rec in enumerate(recs):
        sha = rec.get("data_sha256")
        if sha and sha in by_sha:
            draws[by_sha[sha]].append(i)
        else:
            if sha:
                by_sha[sha] = len(draws)
            draws.append([i])
    for members in draws:
        seen: dict[int, Path] = {}
        for i in members:
            for s in recs[i]["seeds"]:
                if s in seen:
                    raise InputError(f"seed {s} of one draw is in both {seen[s]} and {dirs[i]}: each seed may be "
                                     "merged once")
                seen[s] = dirs[i]
    return draws


def _same_model_twice(recs: list[dict[str, Any]], dirs: list[Path], draws: list[list[int]]) -> None:
    """InputError when two draws trained identical synthetic students for one seed: the same
    data given twice (runs recorded before `data_sha256`)."""
    firsts = [recs[d[0]] for d in draws]
    for a in range(len(draws)):
        for b in range(a + 1, len(draws)):
            ra, rb = firsts[a], firsts[b]
            for s in set(ra["seeds"]) & set(rb["seeds"]):
                sa = ra["arms"]["synthetic"][ra["seeds"].index(s)]
                sb = rb["arms"]["synthetic"][rb["seeds"].index(s)]
                if base_diff(sa, sb) == 0.0:
                    raise InputError(f"{dirs[draws[a][0]]} and {dirs[draws[b][0]]} trained the same synthetic "
                                     f"student for seed {s}: the same data given twice, not two draws")


def _check(recs: list[dict[str, Any]], dirs: list[Path]) -> tuple[bool, float]:
    """eval-merge's checks, with the synthetic rows allowed to differ; (recipe checked, the
    largest base difference)."""
    d0 = dirs[0]
    worst = same_tests(recs, dirs, unseen=False)
    recipes = [recorded_recipe(r, d) for r, d in zip(recs, dirs)]
    if any(r is None for r in recipes):
        return False, worst
    r0 = recipes[0]
    for r, d in zip(recipes[1:], dirs[1:]):
        what = ["model"] * (r["model"] != r0["model"]) + option_diff(r, r0)
        what += ["human rows"] * (r["rows"].get("human") != r0["rows"].get("human"))
        if what:
            raise InputError(f"{d} trained another recipe than {d0} (differs in: {', '.join(what)}); only the "
                             "synthetic data may differ between draws")
    return True, worst


def _human(recs: list[dict[str, Any]]) -> tuple[list[Scores], list[int], float]:
    """The human arm's runs, each seed once (the first), their seeds, and the largest
    per-query difference of a repeated seed."""
    runs: dict[int, Scores] = {}
    worst = 0.0
    for rec in recs:
        for s, run in zip(rec["seeds"], rec["arms"]["human"]):
            if s in runs:
                worst = max(worst, base_diff(runs[s], run))
            else:
                runs[s] = run
    return list(runs.values()), list(runs), worst


def merge_draws(dirs: list[Path], out: Path, resamples: int = 1000, seed: int = 0) -> dict[str, Any]:
    """Merge the eval dirs of several generation draws into `out` (see the module doc);
    returns {"comparison", "merge", "groups"}."""
    dirs = [Path(d) for d in dirs]
    if Path(out).resolve() in {d.resolve() for d in dirs}:
        raise InputError(f"{out}: the output dir must not be one of the merged dirs")
    recs = [load_per_query(d) for d in dirs]
    draws = _group(recs, dirs)
    if len(draws) < 2:
        raise InputError("eval-merge --draws needs at least two draws (dirs of one dataset are one draw; "
                         "pool a draw's seeds with plain `synthir eval-merge`)")
    checked, worst = _check(recs, dirs)
    _same_model_twice(recs, dirs, draws)
    first = recs[0]
    test_qids = list(first["test_qids"])
    groups = first.get("groups") or {"all": test_qids}
    per_draw = [[run for i in d for run in recs[i]["arms"]["synthetic"]] for d in draws]
    arms: dict[str, list[Scores]] = {"base": first["arms"]["base"], "synthetic": [_mean_run(r) for r in per_draw]}
    human_worst = 0.0
    if "human" in first["arms"]:
        arms["human"], human_seeds, human_worst = _human(recs)
    comparison = compare(arms, groups, resamples, seed)
    by_seed = comparison.pop("deltas_seeds", {})
    comparison["deltas_draws"] = {p: d for p, d in by_seed.items() if p.startswith("synthetic-")}
    if "human-base" in by_seed:  # the human arm's seeds, as `synthir eval` reports them
        comparison["deltas_seeds"] = {"human-base": by_seed["human-base"]}
    comparison["bootstrap"]["unit_draws"] = ("query and generation draw (each draw's mean over its seeds); the "
                                             "human arm's seeds too")
    info = [{"dirs": [short_name(dirs[i]) for i in d], "seeds": [s for i in d for s in recs[i]["seeds"]],
             "rows": (recs[d[0]].get("training") or {}).get("rows", {}).get("synthetic")} for d in draws]
    record: dict[str, Any] = {**first, "seeds": list(range(len(draws))), "arms": arms,
                              "merged_from": [short_name(d) for d in dirs], "draws": info}
    record.pop("data_sha256", None)
    if "training" in record:  # the synthetic rows of each draw
        record["training"] = {**record["training"], "rows": {**record["training"]["rows"],
                                                             "synthetic": [d["rows"] for d in info]}}
    if "human" in arms:
        record["human_seeds"] = human_seeds
    if all("unseen" in r for r in recs):
        common = set.intersection(*(set(r["unseen"]["qids"]) for r in recs))
        qids = [q for q in first["unseen"]["qids"] if q in common]
        syn = [_mean_run([{"u": run} for i in d for run in recs[i]["unseen"]["synthetic"]])["u"] for d in draws]
        u = first["unseen"]
        record["unseen"] = {**u, "qids": qids, "base": {q: u["base"][q] for q in qids},
                            "synthetic": [{q: s.get(q, 0.0) for q in qids} for s in syn]}
        test_syn = [r[BOOTSTRAP_METRIC] for r in arms["synthetic"]]
        block = unseen_summary({**arms["base"][0][BOOTSTRAP_METRIC], **record["unseen"]["base"]},
                               [{**t, **p} for t, p in zip(test_syn, record["unseen"]["synthetic"])],
                               test_qids, qids, u["train_queries"], u["shown"], resamples, seed)
        if "delta_seeds" in block:
            block["delta_draws"] = block.pop("delta_seeds")
        comparison["unseen"] = block
    else:
        record.pop("unseen", None)
    merge = {"mode": "draws", "merged_from": record["merged_from"], "draws": info, "recipe_checked": checked,
             "base_max_diff": round(worst, 6), "human_max_diff": round(human_worst, 6)}
    return write_merged(Path(out), record, comparison, merge, groups)


def draws_text(result: dict[str, Any]) -> str:
    """The terminal report: each draw's seeds, every arm's mean (± std over draws for the
    synthetic arm), the nDCG@10 differences with both intervals, and the unseen line."""
    comp, merge = result["comparison"], result["merge"]
    seeds = "; ".join(f"draw {i}: seeds {','.join(map(str, d['seeds']))}" + (f", {d['rows']} rows" if d["rows"] else "")
                      for i, d in enumerate(merge["draws"]))
    lines = [f"merged {len(merge['draws'])} generation draws on {result['groups'].get('all', 0)} test queries ({seeds})"
             + ("" if merge["recipe_checked"] else " (recipe not checked: the runs recorded no training options)")]
    return "\n".join(lines + result_lines(comp, "draws"))
