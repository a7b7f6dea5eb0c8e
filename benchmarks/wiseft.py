"""WiSE-FT on real questions: does averaging the synthetic student's weights with its base help?

    .venv/bin/python benchmarks/wiseft.py --tag NAME [--about "..."] [--alphas 0,0.25,0.5,0.75,1] EVAL_DIR [...]

Why: on the second GNOME help dev set e5-small starts at nDCG@10 0.88-0.91 and its synthetic
student gains about +0.015 (docs/results.md §8ad). One explanation would be forgetting: the
fine-tune learns the domain but loses some of what the base knew. WiSE-FT (Wortsman et al.,
"Robust fine-tuning of zero-shot models", CVPR 2022, arXiv:2109.01903) tests it without any
training: the weights theta(a) = (1 - a) * theta_base + a * theta_tuned score above both ends
when the fine-tune forgot something the base had. a = 0 is the base, a = 1 the fine-tune.

EVAL_DIR is an eval dir of benchmarks/downstream.py (model/ is the synthetic student of its
first seed; heldout.py's `setup` reads the rest). For every a, each judged question is scored
(eval/retrieval.py), and theta(a) - theta(1) is bootstrapped (eval/unseen.py `delta_summary`)
on the test half, on the human-train half's unseen questions (heldout.py `partition`) and on
both; then pooled over the dirs. No a is chosen here: every a is reported on both halves, so
the test half never selects one. Writes benchmarks/results/wiseft-NAME.{json,md}.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchmarks/ is a folder of scripts, not a package
import heldout  # noqa: E402


def interpolate(base: dict[str, Any], tuned: dict[str, Any], alpha: float) -> dict[str, Any]:
    """(1 - alpha) * base + alpha * tuned for every floating-point tensor of two state dicts of
    the same architecture; integer buffers (position ids) are taken from `tuned`. SystemExit
    (one line) when the two do not hold the same tensors."""
    if base.keys() != tuned.keys():
        diff = sorted(base.keys() ^ tuned.keys())
        raise SystemExit(f"base and fine-tuned weights differ in {len(diff)} tensors (e.g. {diff[0]}): not the same model")
    out = {}
    for k, t in tuned.items():
        if base[k].shape != t.shape:
            raise SystemExit(f"tensor {k}: shape {tuple(base[k].shape)} in the base, {tuple(t.shape)} fine-tuned")
        out[k] = (1 - alpha) * base[k] + alpha * t if t.is_floating_point() else t
    return out


def score_alphas(eval_dir: Path, fewshot: str | None, alphas: list[float]) -> dict[str, Any]:
    """{"ctx": heldout.setup(...), "scores": {alpha: {qid: nDCG@10}}} for theta(alpha) of `eval_dir`."""
    from synthir.eval.harness import _load_model
    from synthir.eval.retrieval import per_query, retrieve

    ctx = heldout.setup(eval_dir, fewshot)
    msl = ctx["opts"].get("max_seq_length")
    base = {k: v.clone() for k, v in _load_model(ctx["info"]["model"], msl).state_dict().items()}
    st = _load_model(str(eval_dir / "model"), msl)
    tuned = {k: v.clone() for k, v in st.state_dict().items()}
    scores = {}
    for a in alphas:
        st.load_state_dict(interpolate(base, tuned, a))
        run = retrieve(st, ctx["data"], ctx["split"], **ctx["kw"])
        scores[a] = per_query(run, ctx["data"], ctx["split"], ctx["qids"])[heldout.METRIC]
    return {"ctx": ctx, "scores": scores}


def summarise(scores: dict[float, dict[str, float]], qids: list[str], resamples: int) -> dict[str, Any]:
    """Per alpha: mean over `qids` and theta(alpha) - theta(1) with its bootstrap CI."""
    ref = scores[1.0]
    return {str(a): heldout.summarise(ref, s, qids, resamples) for a, s in scores.items()}


def wiseft(eval_dir: Path, fewshot: str | None, alphas: list[float], resamples: int = 1000) -> dict[str, Any]:
    """`summarise` on the test half, the unseen train half and both, plus per-question scores."""
    r = score_alphas(eval_dir, fewshot, alphas)
    part, scores = r["ctx"]["part"], r["scores"]
    both = part["test"] + part["unseen_train"]
    return {"eval": eval_dir.name, "devset": Path(r["ctx"]["info"]["beir"]).name,
            "model": r["ctx"]["info"]["model"], "alphas": alphas,
            "test_half": summarise(scores, part["test"], resamples),
            "unseen_train_half": summarise(scores, part["unseen_train"], resamples),
            "all_unseen": summarise(scores, both, resamples),
            "per_question": {str(a): {q: s[q] for q in both} for a, s in scores.items()}}


def pool(runs: list[dict[str, Any]], alphas: list[float], resamples: int = 1000) -> dict[str, Any]:
    """`summarise` over every run's unseen questions together (ids made unique per run)."""
    scores: dict[float, dict[str, float]] = {a: {} for a in alphas}
    for i, r in enumerate(runs):
        for a in alphas:
            scores[a].update({f"{i}|{q}": v for q, v in r["per_question"][str(a)].items()})
    return summarise(scores, list(scores[1.0]), resamples)


def table(runs: list[dict[str, Any]], pooled: dict[str, Any] | None, alphas: list[float]) -> str:
    """Markdown: one row per dir and half, nDCG@10 per alpha; a last row per dir with the CI of
    each alpha against the plain fine-tune over all unseen questions."""
    head = "| eval / questions | q. | " + " | ".join(f"a = {a:g}" for a in alphas) + " |"
    rows = [head, "|---|---:|" + "---:|" * len(alphas)]

    def means(name: str, s: dict[str, Any]) -> None:
        q = next(iter(s.values()))["queries"]
        rows.append(f"| {name} | {q} | " + " | ".join(f"{s[str(a)]['synthetic']:.3f}" for a in alphas) + " |")

    def deltas(name: str, s: dict[str, Any]) -> None:
        cells = [f"{d['mean']:+.3f} [{d['ci_low']:+.3f}, {d['ci_high']:+.3f}]"
                 for d in (s[str(a)]["delta"] for a in alphas)]
        rows.append(f"| {name}: − fine-tune (95% CI) | | " + " | ".join(cells) + " |")

    for r in runs:
        lang = heldout._label(r["devset"])
        means(f"{lang}: test half", r["test_half"])
        means(f"{lang}: train half, unseen", r["unseen_train_half"])
        means(f"{lang}: all unseen", r["all_unseen"])
        deltas(f"{lang}: all unseen", r["all_unseen"])
    if pooled:
        means("pooled: all unseen", pooled)
        deltas("pooled: all unseen", pooled)
    return "\n".join(rows) + "\n"


def _alphas(text: str) -> list[float]:
    try:
        alphas = sorted({float(x) for x in text.split(",")})
    except ValueError:
        raise SystemExit(f"--alphas must be numbers separated by commas (got {text!r})") from None
    if alphas[0] < 0 or alphas[-1] > 1 or 1.0 not in alphas:
        raise SystemExit(f"--alphas must lie in [0, 1] and include 1 (the fine-tune itself; got {text!r})")
    return alphas


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("eval_dirs", type=Path, nargs="+")
    ap.add_argument("--tag", required=True)
    ap.add_argument("--about", default="")
    ap.add_argument("--alphas", default="0,0.25,0.5,0.75,1")
    ap.add_argument("--fewshot", default=None, help="the generator's examples (default ../fewshot.jsonl; 'none')")
    ap.add_argument("--bootstrap", type=int, default=1000)
    a = ap.parse_args(argv)
    alphas = _alphas(a.alphas)
    runs = [wiseft(d.resolve(), a.fewshot, alphas, a.bootstrap) for d in a.eval_dirs]
    pooled = pool(runs, alphas, a.bootstrap) if len(runs) > 1 else None
    heldout.write(f"wiseft-{a.tag}", {"about": a.about, "alphas": alphas, "runs": runs, "pooled": pooled},
                  f"# WiSE-FT: base and synthetic student weights averaged: {a.tag}\n\n{a.about}\n\n"
                  f"theta(a) = (1 - a) base + a fine-tuned; nDCG@10.\n\n{table(runs, pooled, alphas)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
