"""Paired bootstrap over queries: how sure is a difference between two retrievers?

Both systems are scored on the same queries; the per-query differences are resampled with
replacement (a seeded numpy Generator) and the mean of each resample is kept. The 95 %
interval is the 2.5th..97.5th percentile of those means; `share_above_0` is the fraction of
resamples whose mean difference is > 0 (near 1: the first system is better on almost every
resample of the query set; near 0.5: no evidence either way).

Reference: Efron & Tibshirani, "An Introduction to the Bootstrap" (1993); for IR, Sakai,
"Evaluating evaluation metrics based on the bootstrap" (SIGIR 2006).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from synthir.errors import ConfigError

PerQuery = dict[str, float]  # query id -> score of one metric


def mean_over_seeds(runs: Sequence[PerQuery], qids: Sequence[str]) -> np.ndarray:
    """Per-query score averaged over the runs of several seeds.

    Inputs: `runs`, one {query id: score} per seed (a query missing from a run scores 0, as in
    `retrieval.per_query`); `qids`, the queries wanted, in order.
    Output: float array, one value per `qids` entry."""
    if not runs:
        raise ValueError("mean_over_seeds needs at least one run")
    return np.array([[r.get(q, 0.0) for q in qids] for r in runs], dtype=np.float64).mean(axis=0)


def paired_bootstrap(deltas: Sequence[float] | np.ndarray, resamples: int = 1000, seed: int = 0,
                     level: float = 0.95) -> dict[str, float | int]:
    """Bootstrap confidence interval of the mean of per-query differences.

    Inputs: `deltas`, score(system A) - score(system B) per query (paired: same queries);
    `resamples`, how many resamples of the queries (with replacement); `seed` of the
    numpy Generator; `level` of the two-sided percentile interval.
    Output: {"mean", "ci_low", "ci_high", "share_above_0", "n_queries", "resamples", "level"}.
    Deterministic for a given seed; identical deltas give a zero-width interval."""
    d = np.asarray(deltas, dtype=np.float64)
    if d.ndim != 1 or d.size == 0:
        raise ValueError("paired_bootstrap needs a non-empty 1-d array of per-query deltas")
    if resamples < 1:
        raise ConfigError(f"bootstrap resamples must be >= 1 (got {resamples})")
    if not 0.0 < level < 1.0:
        raise ConfigError(f"bootstrap level must be in (0, 1) (got {level})")
    rng = np.random.default_rng(seed)
    means = np.empty(resamples, dtype=np.float64)
    chunk = max(1, 2_000_000 // d.size)  # bound the index matrix to ~16 MB
    for start in range(0, resamples, chunk):
        stop = min(resamples, start + chunk)
        idx = rng.integers(0, d.size, size=(stop - start, d.size))
        means[start:stop] = d[idx].mean(axis=1)
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail])
    return {"mean": round(float(d.mean()), 4), "ci_low": round(float(low), 4), "ci_high": round(float(high), 4),
            "share_above_0": round(float((means > 0).mean()), 4), "n_queries": int(d.size),
            "resamples": int(resamples), "level": level}
