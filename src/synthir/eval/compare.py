"""Compare the arms of `synthir eval`: base (once), synthetic and human (one run per seed).

Per arm and query group: mean, std (sample, ddof=1; 0 for one seed), min and max over seeds
of each metric. Per pair of arms (synthetic-base, human-base, synthetic-human) and query
group: a paired bootstrap over queries of the nDCG@10 difference, each query's score being
its mean over seeds; when an arm of the pair has several seeds, also the Multi-Bootstrap that
resamples the seeds too ("deltas_seeds"; Sellam et al., ICLR 2022; eval/bootstrap.py). The
text table shows all of it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from synthir.eval.bootstrap import multi_bootstrap, paired_bootstrap, run_matrix
from synthir.eval.retrieval import METRICS, mean_scores

Scores = dict[str, dict[str, float]]  # metric -> query id -> value (one run)
BOOTSTRAP_METRIC = "ndcg@10"
PAIRS = (("synthetic", "base"), ("human", "base"), ("synthetic", "human"))


def spread(values: list[float]) -> dict[str, float | int]:
    """{"mean", "std", "min", "max", "n"} of one metric over seeds (std: ddof=1, 0 for n=1)."""
    a = np.asarray(values, dtype=np.float64)
    std = float(a.std(ddof=1)) if a.size > 1 else 0.0
    return {"mean": round(float(a.mean()), 4), "std": round(std, 4), "min": round(float(a.min()), 4),
            "max": round(float(a.max()), 4), "n": int(a.size)}


def arm_summary(runs: list[Scores], groups: dict[str, list[str]]) -> dict[str, dict[str, dict[str, Any]]]:
    """{group: {metric: spread over runs}}; `runs` holds one Scores per seed."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for g, qids in groups.items():
        per_run = [mean_scores(r, qids) for r in runs]
        out[g] = {m: spread([p[m] for p in per_run]) for m in METRICS}
    return out


def compare(arms: dict[str, list[Scores]], groups: dict[str, list[str]], resamples: int = 1000,
            seed: int = 0) -> dict[str, Any]:
    """The content of comparison.json.

    Inputs: `arms` {"base": [Scores], "synthetic": [Scores per seed], "human": [...] (optional)};
    `groups` {group: query ids} (all scored queries are in every Scores); bootstrap
    `resamples` and `seed`.
    Output: {"arms": {arm: {group: {metric: spread}}}, "deltas": {"A-B": {group: bootstrap of
    nDCG@10 (A - B) per query, each query's score averaged over seeds}}, "deltas_seeds": {"A-B":
    {group: multi_bootstrap of the same, seeds resampled too}} (pairs where an arm has several
    runs), "bootstrap": {...}}."""
    out: dict[str, Any] = {"arms": {a: arm_summary(runs, groups) for a, runs in arms.items()}, "deltas": {},
                           "bootstrap": {"metric": BOOTSTRAP_METRIC, "resamples": resamples, "seed": seed,
                                         "level": 0.95, "unit": "query; score = mean over seeds",
                                         "unit_seeds": "query and training seed (Multi-Bootstrap)"}}
    runs = {a: [r[BOOTSTRAP_METRIC] for r in rs] for a, rs in arms.items()}
    for a, b in PAIRS:
        if a not in arms or b not in arms:
            continue
        several = len(arms[a]) > 1 or len(arms[b]) > 1
        for g, qids in groups.items():
            if not qids:
                continue
            ma, mb = run_matrix(runs[a], qids), run_matrix(runs[b], qids)  # [seeds x queries]
            out["deltas"].setdefault(f"{a}-{b}", {})[g] = paired_bootstrap(
                ma.mean(axis=0) - mb.mean(axis=0), resamples=resamples, seed=seed)
            if several:
                out.setdefault("deltas_seeds", {}).setdefault(f"{a}-{b}", {})[g] = multi_bootstrap(
                    ma, mb, resamples=resamples, seed=seed)
    return out



def _cell(s: dict[str, Any]) -> str:
    return f"{s['mean']:.4f}" + (f"±{s['std']:.4f}" if s["n"] > 1 else "")


def table(result: dict[str, Any]) -> str:
    """The printed report: per query group, each arm's metrics (mean±std over seeds), the
    deltas between arms, and the bootstrap 95% CI of the nDCG@10 deltas.

    Input: the dict returned by `run_eval` (keys "comparison", "info")."""
    comp, info = result["comparison"], result["info"]
    names = list(METRICS)
    w = 16
    lines = [f"{'queries':<12} {'n':>5}  {'model':<16} " + " ".join(f"{n:>{w}}" for n in names)]
    for group, n in info["queries"].items():
        first = True
        for arm, summary in comp["arms"].items():
            head = f"{group:<12} {n:>5}" if first else f"{'':<12} {'':>5}"
            lines.append(f"{head}  {arm:<16} " + " ".join(f"{_cell(summary[group][m]):>{w}}" for m in names))
            first = False
        for pair in comp["deltas"]:
            a, b = (comp["arms"][arm][group] for arm in pair.split("-"))
            lines.append(f"{'':<12} {'':>5}  {pair:<16} "
                         + " ".join(f"{a[m]['mean'] - b[m]['mean']:>+{w}.4f}" for m in names))
        cis = [f"{pair} [{d[group]['ci_low']:+.4f}, {d[group]['ci_high']:+.4f}] "
               f">0 in {d[group]['share_above_0']:.0%}" for pair, d in comp["deltas"].items() if group in d]
        if cis:
            lines.append(f"{'':<12} {'':>5}  nDCG@10 95% CI: " + "; ".join(cis))
        cis = [f"{pair} [{d[group]['ci_low']:+.4f}, {d[group]['ci_high']:+.4f}] "
               f">0 in {d[group]['share_above_0']:.0%}" for pair, d in comp.get("deltas_seeds", {}).items()
               if group in d]
        if cis:
            lines.append(f"{'':<12} {'':>5}  seeds resampled too: " + "; ".join(cis))
    seeds = info["seeds"]
    lines.append(f"seeds {','.join(map(str, seeds))} (mean±std over seeds); bootstrap: "
                 f"{comp['bootstrap']['resamples']} resamples of the queries"
                 + (" (and of each arm's seeds: Multi-Bootstrap)" if comp.get("deltas_seeds") else ""))
    for arm, t in info["training"].items():
        runs = ", ".join(f"{r['steps']} steps loss {r['loss']}" for r in t["runs"])
        lines.append(f"{arm}: trained on {t['rows']} rows ({t['source']}, loss {t['loss']}): {runs}")
    if info.get("human_split"):
        hs = info["human_split"]
        lines.append(f"human split {hs['fraction']} (seed {hs['seed']}): {hs['train_queries']} train queries, "
                     f"{hs['test_queries']} test queries; every arm scored on the test queries only")
    if comp.get("unseen"):
        u, d = comp["unseen"], comp["unseen"]["delta"]
        lines.append(f"unseen questions ({u['test_queries']} test + {u['queries'] - u['test_queries']} human-train, "
                     f"{u['left_out']} left out as shown or trained on): base {u['base']:.4f}, synthetic "
                     f"{u['synthetic']:.4f}, synthetic-base {d['mean']:+.4f} [{d['ci_low']:+.4f}, {d['ci_high']:+.4f}]"
                     + (f"; seeds resampled too [{u['delta_seeds']['ci_low']:+.4f}, {u['delta_seeds']['ci_high']:+.4f}]"
                        if u.get("delta_seeds") else ""))
    lines.append(f"corpus {info['corpus']} documents")
    return "\n".join(lines)
