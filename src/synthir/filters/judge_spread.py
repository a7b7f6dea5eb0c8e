"""How spread out a yes/no judge's P(yes) is, and whether `judge.yes_no_cuts` fit it.

A small judge (the packaged 0.5B Qwen) ranks well but its P(yes) is compressed: on the German
GNOME help (docs/results.md §8r) its sources sat at P(yes) 0.33-0.53 (median 0.43), so the
default cut for "relevant" (0.5) graded most sources 1 and the judge stage would have dropped
75% of the queries, silently. This module gives the judge stage a mergeable record of the
spread and the run a one-line warning when the cuts do not fit it.

- `histogram(values)` -> 100 counts of P(yes) in bins of 0.01 (per shard; shards add up).
- `merge(a, b)` -> the element-wise sum (the funnel's merge).
- `quantiles(hist)` -> {n, p10, p25, p50, p75, p90} read off the histogram (bin upper edges,
  so accurate to 0.01).
- `suggested_cuts(source_hist)` -> cuts at the sources' p10 / p25 / p75: a label-free
  heuristic that assumes most round-trip-kept sources are relevant (grade 2 from p25 on), which
  is what the round trip already says about them. It is a suggestion in the warning, never
  applied by itself.
- `cut_warning(judge_funnel, cuts, relevant_min)` -> one line, or None: when the sources'
  median P(yes) is at or below the cut that makes a passage relevant.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

BINS = 100
QUANTILES = (0.10, 0.25, 0.50, 0.75, 0.90)


def histogram(values: Iterable[float]) -> list[int]:
    """Counts of `values` (probabilities) in BINS equal bins over [0, 1]; 1.0 falls in the last."""
    out = [0] * BINS
    for v in values:
        out[min(BINS - 1, max(0, int(float(v) * BINS)))] += 1
    return out


def merge(a: Sequence[int] | None, b: Sequence[int] | None) -> list[int]:
    """Element-wise sum of two histograms (either may be missing)."""
    if not a:
        return list(b or [0] * BINS)
    if not b:
        return list(a)
    return [x + y for x, y in zip(a, b)]


def quantiles(hist: Sequence[int]) -> dict[str, Any]:
    """{n, p10, p25, p50, p75, p90}: the upper edge of the bin holding each quantile (None
    values when the histogram is empty)."""
    n = int(sum(hist))
    out: dict[str, Any] = {"n": n}
    for q in QUANTILES:
        key = f"p{round(q * 100)}"
        if n == 0:
            out[key] = None
            continue
        need, seen = q * n, 0
        for i, c in enumerate(hist):
            seen += c
            if seen >= need:
                out[key] = round((i + 1) / BINS, 2)
                break
    return out


def suggested_cuts(source_hist: Sequence[int]) -> list[float] | None:
    """Cuts at the sources' p10 / p25 / p75 (lower edges of their bins), made strictly
    increasing; None without judged sources."""
    q = quantiles(source_hist)
    if not q["n"]:
        return None
    cuts = [max(0.01, round(q[k] - 1 / BINS, 2)) for k in ("p10", "p25", "p75")]
    for i in (1, 2):
        cuts[i] = max(cuts[i], round(cuts[i - 1] + 0.01, 2))
    return [min(c, 0.99) for c in cuts] if cuts[2] < 1 else None


def cut_warning(judge: dict[str, Any], cuts: Sequence[float], relevant_min: int) -> str | None:
    """The warning for a yes/no judge whose relevance cut sits above the median source, or
    None (other judges, no spread recorded, or cuts that fit)."""
    spread = judge.get("p_yes") or {}
    src = spread.get("source")
    if judge.get("kind") != "yes_no" or not src or not sum(src):
        return None
    q = quantiles(src)
    cut = cuts[relevant_min - 1]
    if q["p50"] > cut:
        return None
    dropped = (judge.get("outcomes") or {}).get("dropped", 0)
    total = judge.get("in", 0) or 1
    hint = suggested_cuts(src)
    return (f"judge: the median source P(yes) is {q['p50']:.2f} (p10 {q['p10']:.2f}, p90 {q['p90']:.2f}), at or below "
            f"the relevance cut {cut:.2f} (judge.yes_no_cuts, relevant_min {relevant_min}); {dropped} of "
            f"{judge.get('in', 0)} queries ({100.0 * dropped / total:.0f}%) were dropped. A small judge's P(yes) is "
            f"compressed: set judge.yes_no_cuts from its spread"
            + (f", e.g. the sources' p10/p25/p75 {hint}" if hint else "") + ".")
