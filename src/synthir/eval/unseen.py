"""Synthetic vs base on every judged question the synthetic arm never saw (`synthir eval
--score-unseen SHOWN`).

With a human split, every arm is scored on the test part only, because the human arm trains on
the other part. The synthetic arm never trains on a human question: its generator saw at most
the few-shot examples (Promptagator's in-domain examples, written by `synthir examples` from
the human-train part). So synthetic − base can also be scored on the human-train questions that
were neither shown to the generator nor equal to a synthetic training query: about twice the
questions of the test part, and a narrower interval for "does synthir data beat the base
model". The comparison with the human arm stays on the test part.

Inputs: SHOWN, the JSONL of questions the generator was shown (a `query` field per line, as
`synthir examples` writes; or none); the human-train query ids; the query texts; the synthetic
training queries. Questions are "the same" when equal casefolded with spaces collapsed; a
human-train question equal to a test question is left out too (it would count twice).
Output (`unseen_summary`): {"queries", "test_queries", "train_queries", "left_out", "shown",
"base", "synthetic" (means, synthetic averaged over seeds), "delta": paired bootstrap of
synthetic − base (eval/bootstrap.py)}.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from synthir.errors import InputError
from synthir.eval.bootstrap import multi_bootstrap, paired_bootstrap, run_matrix


def norm(text: str) -> str:
    """Casefolded, whitespace-collapsed text: the key two questions are the same by."""
    return " ".join(str(text).casefold().split())


def read_shown(path: Path) -> set[str]:
    """The normalised `query` of every line of `path`; InputError (one line) for a missing file
    or a line that is not a JSON object with a string `query`."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"--score-unseen {path}: no such file (the examples the generator was shown, "
                         "as `synthir examples` writes them; or `none`)")
    shown: set[str] = set()
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            query = row["query"] if isinstance(row, dict) else None
        except (json.JSONDecodeError, KeyError):
            query = None
        if not isinstance(query, str):
            raise InputError(f"--score-unseen {path.name}: line {n} is not a JSON object with a string 'query'")
        shown.add(norm(query))
    return shown


def unseen_train(train_qids: list[str], test_qids: list[str], queries: dict[str, str], seen: set[str]) -> list[str]:
    """The human-train query ids whose normalised text is neither in `seen` nor a test query's
    (it would count twice), in their order."""
    taken = seen | {norm(queries[q]) for q in test_qids}
    return [q for q in train_qids if norm(queries[q]) not in taken]


def delta_summary(base: dict[str, float], synthetic: list[dict[str, float]], qids: list[str],
                  resamples: int = 1000, seed: int = 0) -> dict[str, Any]:
    """{"queries", "base", "synthetic", "delta"[, "delta_seeds"]} over `qids`: both means
    (synthetic averaged over its seeds' runs), the paired bootstrap of synthetic − base and,
    with several seeds, the Multi-Bootstrap that resamples them too (eval/bootstrap.py)."""
    mb, ms = run_matrix([base], qids), run_matrix(synthetic, qids)  # [runs x queries]
    b, s = mb.mean(axis=0), ms.mean(axis=0)
    out = {"queries": len(qids), "base": round(float(b.mean()), 4), "synthetic": round(float(s.mean()), 4),
           "delta": paired_bootstrap(s - b, resamples=resamples, seed=seed)}
    if len(synthetic) > 1:
        out["delta_seeds"] = multi_bootstrap(ms, mb, resamples=resamples, seed=seed)
    return out


def unseen_summary(base: dict[str, float], synthetic: list[dict[str, float]], test_qids: list[str],
                   train_unseen: list[str], n_train: int, n_shown: int, resamples: int = 1000,
                   seed: int = 0) -> dict[str, Any]:
    """The module doc's summary over `test_qids` + `train_unseen` (nDCG@10 per query: `base`
    one run, `synthetic` one run per seed)."""
    s = delta_summary(base, synthetic, list(test_qids) + list(train_unseen), resamples, seed)
    return {"queries": s["queries"], "test_queries": len(test_qids), "train_queries": n_train,
            "left_out": n_train - len(train_unseen), "shown": n_shown,
            "base": s["base"], "synthetic": s["synthetic"], "delta": s["delta"],
            **({"delta_seeds": s["delta_seeds"]} if "delta_seeds" in s else {})}
