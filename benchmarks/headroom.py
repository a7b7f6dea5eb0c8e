"""How much of the room above base a fine-tune closes, per dev set (docs/results.md §8az).

    .venv/bin/python benchmarks/headroom.py --out benchmarks/results/headroom-NAME.json \
        "LABEL=per_query/RUN" ["LABEL=per_query/RUN" ...]

Why: e5-small gains +0.031 and +0.035 nDCG@10 on English and French GNOME help set 2 but
+0.012 and +0.022 on German and Spanish, whose bases start higher. Each RUN is an eval dir
under benchmarks/results/ (its per_query.json, as `benchmarks/downstream.py` or `synthir
eval-merge` wrote it). Per run, over the test-half questions, with each arm's per-question
nDCG@10 averaged over its runs (seeds, and draws for a merged dir: a merged dir's mean weights
runs, not draws): how many the base ranks right first (nDCG 1), the headroom (mean of 1 − base),
the synthetic and human gains and their share of the headroom, and the synthetic gain split
into the questions the base misses and the ones it already gets right: the mean change on each,
how many moved, and each one's share of the synthetic gain (summed over its questions / every
test question; the two shares add up to the gain).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from synthir.errors import InputError
from synthir.eval.versus import arm_scores, load_per_query

RESULTS = Path(__file__).resolve().parent / "results"


def headroom(per_query: dict[str, Any], where: Path = Path("per_query.json")) -> dict[str, float | int | None]:
    """The summary above for one per_query.json record (`load_per_query`; arms base, synthetic,
    human, each averaged over its runs by `arm_scores`; `test_qids`)."""
    q = per_query["test_qids"]
    b, s, h = (arm_scores(per_query, arm, "ndcg@10", where, q) for arm in ("base", "synthetic", "human"))
    hit = b >= 0.999
    room = float((1 - b).mean())
    gain, human = float((s - b).mean()), float((h - b).mean())
    return {"test_questions": len(q), "base_ranks_first": int(hit.sum()), "base": round(float(b.mean()), 3),
            "headroom": round(room, 3), "synthetic_gain": round(gain, 3), "human_gain": round(human, 3),
            "synthetic_share_of_headroom": round(gain / room, 2) if room else None,
            "human_share_of_headroom": round(human / room, 2) if room else None,
            "share_needed_for_0.03": round(0.03 / room, 2) if room else None,
            "synthetic_gain_on_base_misses": round(float((s - b)[~hit].mean()), 3) if (~hit).any() else None,
            "synthetic_change_on_base_hits": round(float((s - b)[hit].mean()), 3) if hit.any() else None,
            # the same split as counts and as shares of synthetic_gain (the two add up to it, §8br)
            "base_hits_lost": int(((s - b) < 0)[hit].sum()), "base_misses_gained": int(((s - b) > 0)[~hit].sum()),
            "base_misses_lost": int(((s - b) < 0)[~hit].sum()),
            "gain_from_base_misses": round(float((s - b)[~hit].sum()) / len(q), 3),
            "gain_from_base_hits": round(float((s - b)[hit].sum()) / len(q), 3)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+", metavar="LABEL=DIR")
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args(argv)
    out = {}
    for item in a.runs:
        label, _, rel = item.partition("=")
        try:  # no per_query.json, not one, or an arm missing: a line, not a traceback
            out[label] = {"run": rel, **headroom(load_per_query(RESULTS / rel), Path(rel))}
        except InputError as e:
            raise SystemExit(f"headroom: {e}") from None
        print(label, out[label])
    a.out.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
