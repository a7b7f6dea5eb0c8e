"""Paired bootstrap over queries: how sure is a difference between two retrievers?

Both systems are scored on the same queries; the per-query differences are resampled with
replacement (a seeded numpy Generator) and the mean of each resample is kept. The 95 %
interval is the 2.5th..97.5th percentile of those means; `share_above_0` is the fraction of
resamples whose mean difference is > 0 (near 1: the first system is better on almost every
resample of the query set; near 0.5: no evidence either way).

Reference: Efron & Tibshirani, "An Introduction to the Bootstrap" (1993); for IR, Sakai,
"Evaluating evaluation metrics based on the bootstrap" (SIGIR 2006).

`multi_bootstrap` also resamples each system's training seeds (the Multi-Bootstrap of Sellam
et al., "The MultiBERTs: BERT Reproductions for Robustness Analysis", ICLR 2022): averaging
the seeds first, as `paired_bootstrap` on `mean_over_seeds` does, treats the seeds' mean as
exact, so a difference that one lucky training order makes looks surer than it is.
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
    return run_matrix(runs, qids).mean(axis=0)


def run_matrix(runs: Sequence[PerQuery], qids: Sequence[str]) -> np.ndarray:
    """[runs x qids] scores, one row per run (a query missing from a run scores 0): the input
    of `multi_bootstrap`."""
    return np.array([[r.get(q, 0.0) for q in qids] for r in runs], dtype=np.float64).reshape(len(runs), len(qids))


def _check(resamples: int, level: float) -> None:
    if resamples < 1:
        raise ConfigError(f"bootstrap resamples must be >= 1 (got {resamples})")
    if not 0.0 < level < 1.0:
        raise ConfigError(f"bootstrap level must be in (0, 1) (got {level})")


def _interval(means: np.ndarray, level: float) -> tuple[float, float]:
    """The two-sided percentile interval of the resampled means."""
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail])
    return float(low), float(high)


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
    # one run a side: the Multi-Bootstrap resamples the queries only (the same index stream)
    out = multi_bootstrap(d[None, :], np.zeros((1, d.size)), resamples=resamples, seed=seed, level=level)
    return {k: v for k, v in out.items() if k not in ("seeds_a", "seeds_b")}


def multi_bootstrap(a_runs: Sequence[Sequence[float]] | np.ndarray, b_runs: Sequence[Sequence[float]] | np.ndarray,
                    resamples: int = 1000, seed: int = 0, level: float = 0.95) -> dict[str, float | int]:
    """Bootstrap CI of mean(A) - mean(B) that resamples the queries AND each system's seeds.

    Inputs: `a_runs` [seeds of A x queries], `b_runs` [seeds of B x queries]: per-query scores
    of each training run, the same queries in the same order (a system trained once, such as
    the base model, has one row). Each resample draws the queries with replacement, the same
    draw for both systems (paired over queries, with the very index stream `paired_bootstrap`
    uses for `seed`), and for each system its seeds with replacement, independently (A's and
    B's runs are different trainings); its statistic is A's mean over the drawn seeds and
    queries minus B's.
    Output: paired_bootstrap's keys plus "seeds_a", "seeds_b". With one run per system it is
    paired_bootstrap on the per-query differences, interval for interval (paired_bootstrap is
    that case). With few seeds (3)
    the seed draw understates their spread (a bootstrap of n values has variance (n - 1)/n of
    theirs), so read it as a lower bound on the uncertainty that seeds add."""
    a, b = np.asarray(a_runs, dtype=np.float64), np.asarray(b_runs, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or a.size == 0 or b.size == 0:
        raise ValueError(f"multi_bootstrap needs two non-empty [runs x queries] arrays over the same queries "
                         f"(got {a.shape} and {b.shape})")
    _check(resamples, level)
    n = a.shape[1]
    rng = np.random.default_rng(seed)  # the query draws: paired_bootstrap's stream
    seed_rng = np.random.default_rng([seed, 1])  # the seed draws, apart from it

    def seed_means(runs: np.ndarray, size: int) -> np.ndarray:
        """[size x queries]: each row the per-query mean over one draw of the runs."""
        if runs.shape[0] == 1:
            return np.repeat(runs, size, axis=0)
        counts = seed_rng.multinomial(runs.shape[0], [1.0 / runs.shape[0]] * runs.shape[0], size=size)
        return counts @ runs / runs.shape[0]

    means = np.empty(resamples, dtype=np.float64)
    chunk = max(1, 2_000_000 // n)  # bound the index matrix to ~16 MB
    for start in range(0, resamples, chunk):
        stop = min(resamples, start + chunk)
        idx = rng.integers(0, n, size=(stop - start, n))
        diff = seed_means(a, stop - start) - seed_means(b, stop - start)
        means[start:stop] = np.take_along_axis(diff, idx, axis=1).mean(axis=1)
    low, high = _interval(means, level)
    return {"mean": round(float(a.mean(axis=0).mean() - b.mean(axis=0).mean()), 4), "ci_low": round(low, 4),
            "ci_high": round(high, 4), "share_above_0": round(float((means > 0).mean()), 4), "n_queries": int(n),
            "resamples": int(resamples), "level": level, "seeds_a": int(a.shape[0]), "seeds_b": int(b.shape[0])}

