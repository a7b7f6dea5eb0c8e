"""Which of two datasets trains the better retriever? A paired comparison of two `synthir eval`
dirs scored on the same real test queries.

Prompt iteration ends in a question `synthir eval` alone cannot answer: recipe A's student
scored 0.739 and recipe B's 0.713 on the same dev set -- is that the recipe or the sample of
test queries? Both eval dirs keep their per-query scores (`per_query.json`, written by
`run_eval`); this module pairs them query by query, averages each side over its training
seeds, and puts a paired bootstrap confidence interval on the difference (eval/bootstrap.py:
Efron & Tibshirani 1993; Sakai, SIGIR 2006).

Where does A lose? The same pairing answers it: `queries` / `exclude` (regular expressions
over the test query ids) restrict the comparison to a slice of the questions, `arm_b` compares
two arms (A's synthetic student against B's human one; A and B may be the same dir), and `show`
lists the questions A loses and wins most on, with their text from the BEIR dir when it is
still there.

More questions, narrower intervals: with `unseen`, both dirs having been scored with
`synthir eval --score-unseen`, the pairing also takes the human-train questions that NEITHER
synthetic arm saw (eval/unseen.py: neither generator was shown them, neither training set holds
their text), about doubling the questions of a dev set. Only the synthetic and base arms were
scored on those, and only by nDCG@10.

Inputs: two eval dirs of the same BEIR dir, the same qrels split and the same test queries
(same human split), optionally more such pairs to pool (the same two recipes on other dev
sets); an arm (`synthetic` by default; `human`, `base` also work) for A and for B, a metric,
the query-id filters, `show` and `unseen`.
Output: {"a", "b", "arm", "arm_b", "metric", "queries", "a_mean", "b_mean", "runs_a", "runs_b",
"delta": the bootstrap dict of A - B[, "sets": one summary per pooled pair][, "selection":
{"queries", "exclude", "kept", "of"}][, "lose_most", "win_most": [{"qid", "text", "a", "b",
"delta"}]][, "unseen": {"test_queries", "train_queries", "only_a", "only_b"}]}. Bad input
(missing file, different test queries, unknown arm or metric, a bad regular expression, a
filter no query passes, `unseen` without unseen scores or with the human arm or another
metric): one-line InputError.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from synthir.errors import InputError
from synthir.eval.bootstrap import mean_over_seeds, multi_bootstrap, paired_bootstrap, run_matrix

PER_QUERY = "per_query.json"


def per_query_record(beir: str, qrels_split: str, test_qids: list[str], seeds: list[int],
                     arms: dict[str, list[dict[str, dict[str, float]]]], **extra: Any) -> dict[str, Any]:
    """The `per_query.json` of an eval dir: {"beir", "qrels_split", "test_qids", "seeds",
    "arms": {arm: [{metric: {query id: score}} per run]}} (base has one run, the other arms
    one per seed, in `seeds` order; the layout of retrieval.per_query). `extra`, kept so that
    runs of one recipe can be merged later (eval/merge.py): "groups" {group: test query ids},
    "training" (merge.training_record) and, with `--score-unseen`, "unseen" {"qids",
    "train_queries", "shown", "base": {query id: nDCG@10}, "synthetic": [{query id: nDCG@10}
    per seed]}."""
    return {"beir": beir, "qrels_split": qrels_split, "test_qids": list(test_qids), "seeds": list(seeds),
            "arms": arms, **extra}


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


def _pattern(flag: str, text: str | None) -> re.Pattern[str] | None:
    try:
        return re.compile(text) if text else None
    except re.error as e:
        raise InputError(f"{flag} {text!r}: not a regular expression ({e})") from None


def _filtered(qids: list[str], queries: str | None, exclude: str | None) -> list[str]:
    keep, drop = _pattern("--queries", queries), _pattern("--exclude", exclude)
    return [q for q in qids if (keep is None or keep.search(q)) and not (drop and drop.search(q))]


def select_queries(qids: list[str], queries: str | None = None, exclude: str | None = None) -> list[str]:
    """The query ids that `queries` matches (re.search; None: all) and `exclude` does not, in
    order; InputError when none is left."""
    out = _filtered(qids, queries, exclude)
    if not out:
        what = " and ".join(x for x in (f"--queries {queries!r}" if queries else "",
                                         f"--exclude {exclude!r}" if exclude else "") if x)
        raise InputError(f"no test query is left by {what} (ids look like {qids[0]!r})" if qids
                         else "no test queries")
    return out


def query_texts(beir: Path) -> dict[str, str]:
    """{query id: text} of the BEIR dir `beir`; {} when it is gone or unreadable (published
    results keep only the dir's name): the ids are shown instead."""
    from synthir.io.beir import read_beir

    try:
        return read_beir(beir, corpus=False).queries
    except (OSError, InputError, KeyError, TypeError):
        return {}


UNSEEN_ARMS = ("synthetic", "base")  # the arms `--score-unseen` scores on the human-train questions


def _unseen_runs(rec: dict[str, Any], arm: str, where: Path) -> list[dict[str, float]]:
    """nDCG@10 {query id: score} per run of `arm` on the unseen human-train questions."""
    if not rec.get("unseen"):
        raise InputError(f"{where}: no unseen-question scores (run `synthir eval` with --human-split and "
                         "--score-unseen to keep them)")
    if not isinstance(rec["unseen"], dict) or {"qids", "base", "synthetic"} - set(rec["unseen"]):
        raise InputError(f"{where}: {PER_QUERY}'s `unseen` is not an unseen-score block (qids, base, synthetic)")
    return rec["unseen"]["synthetic"] if arm == "synthetic" else [rec["unseen"]["base"]]


def _unseen_part(ra: dict[str, Any], rb: dict[str, Any], a: Path, b: Path, arm: str, arm_b: str,
                 queries: str | None, exclude: str | None) -> tuple[list[str], Any, Any, dict[str, int]]:
    """The human-train questions unseen by A AND by B that the filters keep, both sides'
    nDCG@10 on them ([runs x questions], run_matrix), and the counts {"train_queries",
    "shared", "only_a", "only_b"} ("shared": before the filters)."""
    runs_a, runs_b = _unseen_runs(ra, arm, a), _unseen_runs(rb, arm_b, b)
    ua, ub = set(ra["unseen"]["qids"]), set(rb["unseen"]["qids"])
    both = _filtered(sorted(ua & ub), queries, exclude)
    counts = {"train_queries": len(both), "shared": len(ua & ub), "only_a": len(ua - ub), "only_b": len(ub - ua)}
    return both, run_matrix(runs_a, both), run_matrix(runs_b, both), counts


def _pair(a: Path, b: Path, arm: str, metric: str, arm_b: str | None = None, queries: str | None = None,
          exclude: str | None = None, unseen: bool = False) -> tuple[Any, Any, dict[str, Any]]:
    """Per-query scores of one (A, B) pair on their shared test queries (those the filters
    keep; with `unseen`, followed by the shared unseen human-train questions), and its summary
    (with "qids", the selected ids in score order, "of", the number of shared test queries
    before the filters, and "beir", the BEIR dir A's eval recorded)."""
    ra, rb = load_per_query(a), load_per_query(b)
    if ra["qrels_split"] != rb["qrels_split"] or sorted(ra["test_qids"]) != sorted(rb["test_qids"]):
        only_a = len(set(ra["test_qids"]) - set(rb["test_qids"]))
        only_b = len(set(rb["test_qids"]) - set(ra["test_qids"]))
        raise InputError(f"{a} and {b} were not tested on the same queries ({only_a} only in A, {only_b} only "
                         f"in B, qrels {ra['qrels_split']} vs {rb['qrels_split']}): use the same BEIR dir and "
                         "--human-split / --human-split-seed")
    shared = sorted(ra["test_qids"])
    try:
        qids = select_queries(shared, queries, exclude)
    except InputError as e:
        raise InputError(f"{a}: {e}") from None
    import numpy as np

    arm_b = arm_b or arm
    ma, mb = run_matrix(_runs(ra, arm, metric, a), qids), run_matrix(_runs(rb, arm_b, metric, b), qids)
    sa, sb = ma.mean(axis=0), mb.mean(axis=0)  # each question averaged over its seeds (arm_scores)
    info: dict[str, Any] = {"of": len(shared)}
    if unseen:
        extra, ua, ub, counts = _unseen_part(ra, rb, a, b, arm, arm_b, queries, exclude)
        info = {"of": len(shared) + counts.pop("shared"), "unseen": {"test_queries": len(qids), **counts}}
        qids, sa, sb = qids + extra, np.concatenate([sa, ua.mean(axis=0)]), np.concatenate([sb, ub.mean(axis=0)])
        # per run, its test scores then its unseen ones (None: the two parts have other run counts)
        ma = np.concatenate([ma, ua], axis=1) if len(ma) == len(ua) else None
        mb = np.concatenate([mb, ub], axis=1) if len(mb) == len(ub) else None
    return sa, sb, {"a": str(a), "b": str(b), "queries": len(qids), "a_mean": round(float(sa.mean()), 4),
                    "b_mean": round(float(sb.mean()), 4), "runs_a": len(ra["arms"][arm]),
                    "runs_b": len(rb["arms"][arm_b]), "qids": qids, "beir": ra["beir"],
                    "matrices": (ma, mb), **info}


def _seeds_delta(pairs: list[tuple[Any, Any, dict[str, Any]]], resamples: int, seed: int) -> dict[str, Any] | None:
    """The Multi-Bootstrap of A - B over every pair's queries (eval/bootstrap.py), when an arm
    has several runs and each side has the same run count in every pair (the runs of pooled
    pairs are then pooled run by run); None otherwise."""
    import numpy as np

    mats = [p[2]["matrices"] for p in pairs]
    if any(ma is None or mb is None for ma, mb in mats):
        return None
    if len({len(ma) for ma, _ in mats}) != 1 or len({len(mb) for _, mb in mats}) != 1:
        return None
    if len(mats[0][0]) == 1 and len(mats[0][1]) == 1:
        return None
    return multi_bootstrap(np.concatenate([ma for ma, _ in mats], axis=1),
                           np.concatenate([mb for _, mb in mats], axis=1), resamples=resamples, seed=seed)


def compare_evals(a: Path, b: Path, arm: str = "synthetic", metric: str = "ndcg@10", resamples: int = 1000,
                  seed: int = 0, more: list[tuple[Path, Path]] | None = None, arm_b: str | None = None,
                  queries: str | None = None, exclude: str | None = None, show: int = 0,
                  beir: Path | None = None, unseen: bool = False) -> dict[str, Any]:
    """A - B on the queries both dirs were tested on (see the module doc).

    `more`: further (A, B) pairs, e.g. the same two recipes on other dev sets or languages;
    their test queries are pooled with the first pair's (each query weighs the same) and the
    result gains "sets" (one summary per pair). One dev set's 56-68 questions cannot tell
    recipes 0.03 apart (docs/results.md §8g); pooling languages can. `arm_b`: B's arm (default:
    `arm`); `queries` / `exclude`: regular expressions over the test query ids; `show`: list
    that many questions A loses most on and wins most on (their text from `beir`, default the
    BEIR dir each eval recorded); `unseen`: add the human-train questions neither synthetic arm
    saw (result key "unseen", summed over the pairs)."""
    import numpy as np

    if unseen and (metric != "ndcg@10" or {arm, arm_b or arm} - set(UNSEEN_ARMS)):
        raise InputError(f"--unseen compares the {' or '.join(UNSEEN_ARMS)} arm by ndcg@10 only (the human arm "
                         f"trained on the human-train questions; not {arm}/{arm_b or arm} by {metric})")
    pairs = [_pair(x, y, arm, metric, arm_b, queries, exclude, unseen) for x, y in [(a, b), *(more or [])]]
    sa = np.concatenate([p[0] for p in pairs])
    sb = np.concatenate([p[1] for p in pairs])
    first = pairs[0][2]
    out = {"a": first["a"], "b": first["b"], "arm": arm, "arm_b": arm_b or arm, "metric": metric,
           "queries": int(sa.size), "a_mean": round(float(sa.mean()), 4), "b_mean": round(float(sb.mean()), 4),
           "runs_a": first["runs_a"], "runs_b": first["runs_b"],
           "delta": paired_bootstrap(sa - sb, resamples=resamples, seed=seed)}
    seeds_delta = _seeds_delta(pairs, resamples, seed)
    if seeds_delta is not None:
        out["delta_seeds"] = seeds_delta
    if queries or exclude:
        out["selection"] = {"queries": queries, "exclude": exclude, "kept": int(sa.size),
                            "of": sum(p[2]["of"] for p in pairs)}
    if unseen:
        out["unseen"] = {k: sum(p[2]["unseen"][k] for p in pairs) for k in pairs[0][2]["unseen"]}
    if show > 0:
        rows = []
        for xa, xb, info in pairs:
            texts = query_texts(Path(beir or info["beir"]))
            rows += [{"qid": q, "text": texts.get(q), "a": round(float(va), 4), "b": round(float(vb), 4),
                      "delta": round(float(va - vb), 4)} for q, va, vb in zip(info["qids"], xa, xb)]
        out["lose_most"] = sorted((r for r in rows if r["delta"] < 0), key=lambda r: (r["delta"], r["qid"]))[:show]
        out["win_most"] = sorted((r for r in rows if r["delta"] > 0), key=lambda r: (-r["delta"], r["qid"]))[:show]
    if more:
        out["sets"] = [{k: v for k, v in p[2].items() if k not in ("qids", "beir", "of", "unseen", "matrices")}
                       for p in pairs]
    return out


def versus_text(r: dict[str, Any]) -> str:
    """Three lines for the terminal (one more per pooled pair): both means and the delta with its
    interval."""
    d = r["delta"]
    arms = f"the {r['arm']} arm" if r.get("arm_b", r["arm"]) == r["arm"] else \
        f"A's {r['arm']} arm against B's {r['arm_b']} arm"
    what = "questions" if "unseen" in r else "test queries"
    if "sets" in r:
        head = [f"{r['metric']} of {arms} on {r['queries']} {what} pooled over {len(r['sets'])} pairs"]
        head += [f"  {s['queries']:>4} q  A {s['a_mean']:.4f} ({s['runs_a']} run(s)) {s['a']}  "
                 f"B {s['b_mean']:.4f} ({s['runs_b']} run(s)) {s['b']}" for s in r["sets"]]
        head += [f"  A {r['a_mean']:.4f}  B {r['b_mean']:.4f}  (pooled)"]
    else:
        head = [f"{r['metric']} of {arms} on {r['queries']} shared {what}",
                f"  A {r['a_mean']:.4f} ({r['runs_a']} run(s))  {r['a']}",
                f"  B {r['b_mean']:.4f} ({r['runs_b']} run(s))  {r['b']}"]
    if "unseen" in r:
        u = r["unseen"]
        head.insert(1, f"  questions: {u['test_queries']} test + {u['train_queries']} human-train unseen by both "
                    f"(left out: {u['only_a']} unseen by A only, {u['only_b']} by B only)")
    if "selection" in r:
        sel = r["selection"]
        head.insert(1, f"  queries: {sel['kept']} of {sel['of']}" + (f" matching {sel['queries']!r}" if sel["queries"]
                    else "") + (f", not {sel['exclude']!r}" if sel["exclude"] else ""))
    lines = head + [
        f"  A - B {d['mean']:+.4f}, {int(d['level'] * 100)}% CI [{d['ci_low']:+.4f}, {d['ci_high']:+.4f}], "
        f"A ahead in {d['share_above_0']:.0%} of {d['resamples']} resamples"]
    if "delta_seeds" in r:
        m = r["delta_seeds"]
        lines.append(f"  seeds resampled too (Multi-Bootstrap, {m['seeds_a']} and {m['seeds_b']} runs): "
                     f"[{m['ci_low']:+.4f}, {m['ci_high']:+.4f}], A ahead in {m['share_above_0']:.0%}")
    for key, title in (("lose_most", "A loses most on"), ("win_most", "A wins most on")):
        if key in r:
            lines.append(f"{title}:" + ("" if r[key] else " none"))
            lines += [f"  {x['delta']:+.3f}  A {x['a']:.3f}  B {x['b']:.3f}  {x['qid']}"
                      + (f"  {x['text'][:70]!r}" if x["text"] else "") for x in r[key]]
    return "\n".join(lines)
