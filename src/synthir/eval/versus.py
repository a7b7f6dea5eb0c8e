"""Which of two datasets trains the better retriever? A paired comparison of two `synthir eval`
dirs scored on the same real test queries.

Prompt iteration ends in a question `synthir eval` alone cannot answer: recipe A's student
scored 0.739 and recipe B's 0.713 on the same dev set -- is that the recipe or the sample of
test queries? Both eval dirs keep their per-query scores (`per_query.json`, written by
`run_eval`); this module pairs them query by query, averages each side over its training
seeds, and puts a paired bootstrap confidence interval on the difference (eval/bootstrap.py:
Efron & Tibshirani 1993; Sakai, SIGIR 2006).

Inputs: two eval dirs of the same BEIR dir, the same qrels split and the same test queries
(same human split), optionally more such pairs to pool (the same two recipes on other dev
sets); an arm (`synthetic` by default; `human`, `base` also work) and a metric.
Output: {"a", "b", "arm", "metric", "queries", "a_mean", "b_mean", "runs_a", "runs_b", "delta":
the bootstrap dict of A - B[, "sets": one summary per pooled pair]}. Bad input (missing file,
different test queries, unknown arm or metric): one-line InputError.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from synthir.errors import InputError
from synthir.eval.bootstrap import mean_over_seeds, paired_bootstrap

PER_QUERY = "per_query.json"


def per_query_record(beir: str, qrels_split: str, test_qids: list[str], seeds: list[int],
                     arms: dict[str, list[dict[str, dict[str, float]]]]) -> dict[str, Any]:
    """The `per_query.json` of an eval dir: {"beir", "qrels_split", "test_qids", "seeds",
    "arms": {arm: [{metric: {query id: score}} per run]}} (base has one run, the other arms
    one per seed, in `seeds` order; the layout of retrieval.per_query)."""
    return {"beir": beir, "qrels_split": qrels_split, "test_qids": list(test_qids), "seeds": list(seeds),
            "arms": arms}


def load_per_query(eval_dir: Path) -> dict[str, Any]:
    """Read `eval_dir/per_query.json`; InputError (one line) when it is missing or unreadable."""
    path = Path(eval_dir) / PER_QUERY
    if not path.is_file():
        raise InputError(f"{eval_dir}: no {PER_QUERY} (written by `synthir eval` since per-query scores "
                         "were kept; re-run the eval)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        missing = [k for k in ("beir", "qrels_split", "test_qids", "seeds", "arms") if k not in data]
        if missing:
            raise KeyError(", ".join(missing))
        return data
    except (json.JSONDecodeError, KeyError, TypeError) as e:
        raise InputError(f"{path}: not a per-query score file ({type(e).__name__}: {e})") from None


def arm_scores(rec: dict[str, Any], arm: str, metric: str, where: Path, qids: list[str]) -> Any:
    """Per-query `metric` of `arm` in a per_query.json record, averaged over its runs (seeds),
    one value per `qids` entry (numpy array); InputError when the arm or metric is absent."""
    return mean_over_seeds(_runs(rec, arm, metric, where), qids)


def _runs(rec: dict[str, Any], arm: str, metric: str, where: Path) -> list[dict[str, float]]:
    if arm not in rec["arms"]:
        raise InputError(f"{where}: no `{arm}` arm (has {', '.join(sorted(rec['arms']))})")
    runs = rec["arms"][arm]
    if not runs or any(metric not in run for run in runs):
        raise InputError(f"{where}: the `{arm}` arm has no `{metric}` scores")
    return [run[metric] for run in runs]


def _pair(a: Path, b: Path, arm: str, metric: str) -> tuple[Any, Any, dict[str, Any]]:
    """Per-query scores of one (A, B) pair on their shared test queries, and its summary."""
    ra, rb = load_per_query(a), load_per_query(b)
    if ra["qrels_split"] != rb["qrels_split"] or sorted(ra["test_qids"]) != sorted(rb["test_qids"]):
        only_a = len(set(ra["test_qids"]) - set(rb["test_qids"]))
        only_b = len(set(rb["test_qids"]) - set(ra["test_qids"]))
        raise InputError(f"{a} and {b} were not tested on the same queries ({only_a} only in A, {only_b} only "
                         f"in B, qrels {ra['qrels_split']} vs {rb['qrels_split']}): use the same BEIR dir and "
                         "--human-split / --human-split-seed")
    qids = sorted(ra["test_qids"])
    sa, sb = arm_scores(ra, arm, metric, a, qids), arm_scores(rb, arm, metric, b, qids)
    return sa, sb, {"a": str(a), "b": str(b), "queries": len(qids), "a_mean": round(float(sa.mean()), 4),
                    "b_mean": round(float(sb.mean()), 4), "runs_a": len(ra["arms"][arm]),
                    "runs_b": len(rb["arms"][arm])}


def compare_evals(a: Path, b: Path, arm: str = "synthetic", metric: str = "ndcg@10", resamples: int = 1000,
                  seed: int = 0, more: list[tuple[Path, Path]] | None = None) -> dict[str, Any]:
    """A - B on the queries both dirs were tested on (see the module doc).

    `more`: further (A, B) pairs, e.g. the same two recipes on other dev sets or languages;
    their test queries are pooled with the first pair's (each query weighs the same) and the
    result gains "sets" (one summary per pair). One dev set's 56-68 questions cannot tell
    recipes 0.03 apart (docs/results.md §8g); pooling languages can."""
    import numpy as np

    pairs = [_pair(x, y, arm, metric) for x, y in [(a, b), *(more or [])]]
    sa = np.concatenate([p[0] for p in pairs])
    sb = np.concatenate([p[1] for p in pairs])
    first = pairs[0][2]
    out = {"a": first["a"], "b": first["b"], "arm": arm, "metric": metric, "queries": int(sa.size),
           "a_mean": round(float(sa.mean()), 4), "b_mean": round(float(sb.mean()), 4),
           "runs_a": first["runs_a"], "runs_b": first["runs_b"],
           "delta": paired_bootstrap(sa - sb, resamples=resamples, seed=seed)}
    if more:
        out["sets"] = [p[2] for p in pairs]
    return out


def versus_text(r: dict[str, Any]) -> str:
    """Three lines for the terminal (one more per pooled pair): both means and the delta with its
    interval."""
    d = r["delta"]
    if "sets" in r:
        head = [f"{r['metric']} of the {r['arm']} arm on {r['queries']} test queries pooled over "
                f"{len(r['sets'])} pairs"]
        head += [f"  {s['queries']:>4} q  A {s['a_mean']:.4f} ({s['runs_a']} run(s)) {s['a']}  "
                 f"B {s['b_mean']:.4f} ({s['runs_b']} run(s)) {s['b']}" for s in r["sets"]]
        head += [f"  A {r['a_mean']:.4f}  B {r['b_mean']:.4f}  (pooled)"]
    else:
        head = [f"{r['metric']} of the {r['arm']} arm on {r['queries']} shared test queries",
                f"  A {r['a_mean']:.4f} ({r['runs_a']} run(s))  {r['a']}",
                f"  B {r['b_mean']:.4f} ({r['runs_b']} run(s))  {r['b']}"]
    return "\n".join(head + [
        f"  A - B {d['mean']:+.4f}, {int(d['level'] * 100)}% CI [{d['ci_low']:+.4f}, {d['ci_high']:+.4f}], "
        f"A ahead in {d['share_above_0']:.0%} of {d['resamples']} resamples"])
