"""A soup of students trained on independent generation draws: better than one draw's student?

    .venv/bin/python benchmarks/soup.py --tag NAME [--about "..."] EVAL_DIR EVAL_DIR [...]
    .venv/bin/python benchmarks/soup.py --tag NAME --seeds EVAL_DIR

Why: on the second GNOME help dev set the draws of one recipe move e5-small's test-half gain by
about 0.01 (docs/results.md §8bb, §8bc), more than its training seeds do, and averaging the
student with its base (WiSE-FT, benchmarks/wiseft.py) added nothing. A uniform model soup
(Wortsman et al., "Model soups: averaging weights of multiple fine-tuned models improves
accuracy without increasing inference time", ICML 2022, arXiv:2203.05482) averages the weights
of fine-tunes of one base: here the seed-0 synthetic students of several draws, each fine-tuned
on its own draw's pairs. Each draw's errors (a broad query trained onto a narrow page's
neighbour, §8af) are its own; the soup may keep what the draws agree on. It costs one
generation per draw, so this is a probe of what is to gain, not a recipe that fits the hour.

Each EVAL_DIR is an eval dir of benchmarks/downstream.py on the SAME dev set, student and
human split (model/ is its seed-0 synthetic student; rescored, it must match the eval's
per_query.json: the drift is recorded). Scored on the test half and on the
human-train questions that no draw's pairs or examples hold (heldout.py's `setup` per dir, the
unseen sets intersected): base, each draw's student, their per-question mean (what one draw
gives on average) and the soup. Bootstrapped (eval/unseen.py `delta_summary`): each − base, and
soup − mean of the draws. Writes benchmarks/results/soup-NAME.{json,md}.

`--seeds EVAL_DIR`: the soup of ONE eval's seed students instead (`synthir eval --seeds 0,1,2
--keep-models` keeps model/ and model-seed{S}/; and the human arm's model-human*/). It costs
no generation and no training beyond the eval's own, so it would fit the hour. Scored as
above (each seed rescored against per_query.json), plus the human arm: its seeds, their mean
and their soup on the test half, so the soup is compared with the human labels souped alike.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchmarks/ is a folder of scripts, not a package
import heldout  # noqa: E402


def average(states: list[dict[str, Any]]) -> dict[str, Any]:
    """The uniform soup: the mean of every floating-point tensor over `states` (state dicts of one
    architecture); integer buffers (position ids) from the first. One-line SystemExit when the
    students do not hold the same tensors."""
    first = states[0]
    for s in states[1:]:
        if s.keys() != first.keys():
            diff = sorted(s.keys() ^ first.keys())
            raise SystemExit(f"the students differ in {len(diff)} tensors (e.g. {diff[0]}): not fine-tunes of one base")
        for k, t in s.items():
            if t.shape != first[k].shape:
                raise SystemExit(f"tensor {k}: shapes {tuple(first[k].shape)} and {tuple(t.shape)}: not one base")
    return {k: (sum(s[k] for s in states) / len(states)) if t.is_floating_point() else t
            for k, t in first.items()}


def check_same_eval(ctxs: list[dict[str, Any]]) -> None:
    """One-line SystemExit unless every dir scored the same dev set, split, student and test half."""
    def key(c: dict[str, Any]) -> tuple[Any, ...]:
        i = c["info"]
        return (Path(i["beir"]).name, i["qrels_split"], i["model"], tuple(sorted(c["part"]["test"])),
                c["opts"].get("query_prefix"), c["opts"].get("passage_prefix"))

    if len({key(c) for c in ctxs}) != 1:
        raise SystemExit("the eval dirs differ in dev set, student, prefixes or test half: a soup compares one eval")


def questions(ctxs: list[dict[str, Any]]) -> dict[str, list[str]]:
    """{"test": the shared test half, "unseen": human-train questions unseen by EVERY draw}."""
    unseen = set(ctxs[0]["part"]["unseen_train"])
    for c in ctxs[1:]:
        unseen &= set(c["part"]["unseen_train"])
    return {"test": list(ctxs[0]["part"]["test"]), "unseen": [q for q in ctxs[0]["part"]["unseen_train"] if q in unseen]}


def cell(d: dict[str, Any]) -> str:
    """A delta and its interval, as the tables print them."""
    return f"{d['mean']:+.3f} [{d['ci_low']:+.3f}, {d['ci_high']:+.3f}]"


def state_of(model: Any) -> dict[str, Any]:
    """A detached copy of a student's tensors (floats as fp32), to average after it is freed."""
    return {k: v.detach().clone().float() if v.is_floating_point() else v.clone()
            for k, v in model.state_dict().items()}


def scorer(ctx: dict[str, Any]) -> Any:
    """score(model, qids) -> {question: nDCG@10}, retrieving as the eval of `ctx` (heldout.setup) did."""
    from synthir.eval.retrieval import per_query, retrieve

    def score(st: Any, qids: list[str]) -> dict[str, float]:
        return per_query(retrieve(st, ctx["data"], ctx["split"], **ctx["kw"]), ctx["data"], ctx["split"],
                         qids)[heldout.METRIC]

    return score


def mean_scores(runs: list[dict[str, float]]) -> dict[str, float]:
    """Per question, the mean over `runs`: what one draw's student scores on average."""
    return {q: sum(r[q] for r in runs) / len(runs) for q in runs[0]}


def summaries(scores: dict[str, dict[str, float]], qids: list[str], resamples: int,
              against: str | None = None) -> dict[str, Any]:
    """Each arm − base, soup − the draws' mean and, with `against` (an arm's name), soup − it,
    over `qids`."""
    out = {arm: heldout.summarise(scores["base"], s, qids, resamples) for arm, s in scores.items() if arm != "base"}
    out["soup_vs_draw_mean"] = heldout.summarise(scores["draw mean"], scores["soup"], qids, resamples)
    if against:
        out["soup_vs_against"] = heldout.summarise(scores[against], scores["soup"], qids, resamples)
    return out


def soup(eval_dirs: list[Path], resamples: int = 1000, against: Path | None = None) -> dict[str, Any]:
    """Score base, each dir's student, their mean and the soup; `summaries` on both question sets.
    `against`: one more eval dir of the same eval (e.g. the student of the whole draw the dirs'
    parts were cut from), scored beside them and compared with the soup, not souped; the unseen
    questions are those it did not see either."""
    from synthir.eval.harness import _load_model

    names = [d.name for d in eval_dirs + ([against] if against else [])]
    if len(set(names)) != len(names):
        raise SystemExit(f"two eval dirs share a name ({sorted(n for n in names if names.count(n) > 1)[0]}): "
                         "each student is reported by its dir's name")
    ctxs = [heldout.setup(d, None) for d in eval_dirs + ([against] if against else [])]
    check_same_eval(ctxs)
    qs = questions(ctxs)
    ctx, scored = ctxs[0], qs["test"] + qs["unseen"]
    msl, score = ctx["opts"].get("max_seq_length"), scorer(ctx)
    st = _load_model(ctx["info"]["model"], msl)
    scores = {"base": score(st, scored)}
    states = []
    for d in eval_dirs:
        tuned = _load_model(str(heldout.student(d)), msl)
        scores[d.name] = score(tuned, scored)
        states.append(state_of(tuned))
        del tuned
    recorded = {d.name: heldout.load_per_query(d)["arms"]["synthetic"][0][heldout.METRIC] for d in eval_dirs}
    drift = max(abs(scores[name][q] - rec[q]) for name, rec in recorded.items()
                for q in qs["test"])  # each student rescored as its eval scored it
    scores["draw mean"] = mean_scores([scores[d.name] for d in eval_dirs])
    st.load_state_dict(average(states))
    scores["soup"] = score(st, scored)
    if against:
        scores[f"against: {against.name}"] = score(_load_model(str(heldout.student(against)), msl), scored)
    return {"devset": Path(ctx["info"]["beir"]).name, "model": ctx["info"]["model"],
            "draws": [{"eval": d.name, "train_rows": c["info"]["train_rows"],
                       "precision": c["opts"].get("precision", "fp32")} for d, c in zip(eval_dirs, ctxs)],
            "questions": {k: len(v) for k, v in qs.items()}, "max_drift_from_eval_per_query": round(float(drift), 4),
            "against": against.name if against else None,
            "test_half": summaries(scores, qs["test"], resamples, against and f"against: {against.name}"),
            "unseen": summaries(scores, qs["unseen"], resamples, against and f"against: {against.name}"),
            "per_question": {arm: {q: s[q] for q in scored} for arm, s in scores.items()}}


def table(r: dict[str, Any]) -> str:
    """Markdown: per arm, nDCG@10 and − base on both question sets; then soup − the draws' mean."""
    t, u = r["test_half"], r["unseen"]
    rows = [f"| {r['devset']} ({r['model']}) | test half ({r['questions']['test']} q.) | − base | "
            f"unseen by every draw ({r['questions']['unseen']} q.) | − base |", "|---|---:|---|---:|---|"]
    base_t, base_u = next(iter(t.values()))["base"], next(iter(u.values()))["base"]
    rows.append(f"| base | {base_t:.3f} | | {base_u:.3f} | |")
    for arm in [a for a in t if not a.startswith("soup_vs_") and a in u]:  # human rows: seed_table
        rows.append(f"| {arm} | {t[arm]['synthetic']:.3f} | {cell(t[arm]['delta'])} | {u[arm]['synthetic']:.3f} | "
                    f"{cell(u[arm]['delta'])} |")
    rows.append(f"| **soup − the draws' mean** | | {cell(t['soup_vs_draw_mean']['delta'])} | | "
                f"{cell(u['soup_vs_draw_mean']['delta'])} |")
    if "soup_vs_against" in t:
        rows.append(f"| **soup − {r['against']}** | | {cell(t['soup_vs_against']['delta'])} | | "
                    f"{cell(u['soup_vs_against']['delta'])} |")
    return "\n".join(rows) + "\n"


def seed_students(eval_dir: Path, arm: str, seeds: list[int]) -> list[Path]:
    """The model dirs of `arm` ("synthetic" | "human") per seed (synthir eval's `model_dir`);
    one-line SystemExit when one is missing (the eval ran without --keep-models)."""
    from synthir.eval.harness import model_dir

    dirs = [model_dir(eval_dir, arm, i, s, True) for i, s in enumerate(seeds)]
    missing = [d.name for d in dirs if d is None or not d.is_dir()]
    if missing:
        raise SystemExit(f"{eval_dir.name}: no {missing[0]}/ (run the eval with --seeds and --keep-models)")
    return [d for d in dirs if d is not None]


def seed_soup(eval_dir: Path, resamples: int = 1000, fewshot: str | None = None) -> dict[str, Any]:
    """Base, each seed's synthetic student, their per-question mean and their soup on the test
    half and the unseen human-train questions; the human arm's seeds, mean and soup on the test
    half (when the eval kept them). Drift: each rescored student against per_query.json.
    `fewshot`: the generator's examples file (heldout.setup: None is ../fewshot.jsonl, "none")."""
    from synthir.eval.harness import _load_model

    ctx = heldout.setup(eval_dir, fewshot)
    rec = heldout.load_per_query(eval_dir)
    seeds = list(rec["seeds"])
    if len(seeds) < 2:
        raise SystemExit(f"{eval_dir.name}: one training seed; a seed soup needs the eval run with --seeds 0,1,2")
    qs = questions([ctx])
    msl, score = ctx["opts"].get("max_seq_length"), scorer(ctx)
    arms = {"synthetic": seed_students(eval_dir, "synthetic", seeds)}
    if "human" in rec["arms"]:
        arms["human"] = seed_students(eval_dir, "human", seeds)
    st = _load_model(ctx["info"]["model"], msl)
    scores = {"base": score(st, qs["test"] + qs["unseen"])}
    human: dict[str, dict[str, float]] = {}
    drift = 0.0
    for arm, dirs in arms.items():
        qids = qs["test"] + (qs["unseen"] if arm == "synthetic" else [])
        states, runs = [], []
        for i, (seed, d) in enumerate(zip(seeds, dirs)):
            tuned = _load_model(str(d), msl)
            runs.append(score(tuned, qids))
            recorded = rec["arms"][arm][i][heldout.METRIC]
            drift = max([drift, *(abs(runs[-1][q] - recorded[q]) for q in qs["test"])])
            states.append(state_of(tuned))
            del tuned
        st.load_state_dict(average(states))
        soup_scores = score(st, qids)
        if arm == "synthetic":
            scores.update({f"seed {s}": r for s, r in zip(seeds, runs)})
            scores["draw mean"], scores["soup"] = mean_scores(runs), soup_scores
        else:
            human = {"human mean": mean_scores(runs), "human soup": soup_scores}
    test_half, unseen = summaries(scores, qs["test"], resamples), summaries(scores, qs["unseen"], resamples)
    for name, h in human.items():  # the human arm: test half only
        test_half[name] = heldout.summarise(scores["base"], h, qs["test"], resamples)
        test_half[f"soup_vs_{name.replace(' ', '_')}"] = heldout.summarise(h, scores["soup"], qs["test"], resamples)
    return {"devset": Path(ctx["info"]["beir"]).name, "model": ctx["info"]["model"], "eval": eval_dir.name,
            "seeds": seeds, "train_rows": ctx["info"]["train_rows"], "precision": ctx["opts"].get("precision", "fp32"),
            "questions": {k: len(v) for k, v in qs.items()}, "max_drift_from_eval_per_query": round(float(drift), 4),
            "test_half": test_half, "unseen": unseen, "per_question": {**scores, **human}}


def seed_table(r: dict[str, Any]) -> str:
    """soup.py's `table` for a seed soup, with the human arm's rows on the test half."""
    t = r["test_half"]
    md = (table(r).replace("unseen by every draw", "unseen").replace("the draws' mean", "the seeds' mean")
          .replace("| draw mean |", "| the seeds' mean |"))
    extra = [f"| {arm} | {t[arm]['synthetic']:.3f} | {cell(t[arm]['delta'])} | | |"
             for arm in ("human mean", "human soup") if arm in t]
    extra += [f"| **soup − the {what}** | | {cell(t[key]['delta'])} | | |"
              for key, what in (("soup_vs_human_soup", "human soup"), ("soup_vs_human_mean", "human seeds' mean"))
              if key in t]
    return md + "\n".join(extra) + ("\n" if extra else "")


def union_copy(work_dirs: list[Path], out: Path) -> dict[str, Any]:
    """out/data: the first work dir's dataset with the `pairs` of every work dir's draw (exact
    repeats of a (query, passage) dropped), and its fewshot.jsonl; the control that trains one
    student on all the draws' pairs, as much generated data as the soup. All draws must have
    been shown the same examples. {"dir", "pairs", "repeats_dropped", "passages"}."""
    import pandas as pd

    from bag import pairs_file, rewrite_pairs

    complete = all((w / "data" / "README.md").is_file() and (w / "fewshot.jsonl").is_file() for w in work_dirs)
    if not complete or len({(w / "fewshot.jsonl").read_bytes() for w in work_dirs}) != 1:
        raise SystemExit("--union: each work dir needs data/ and the same fewshot.jsonl (the draws of one recipe)")
    frames = [pd.read_parquet(pairs_file(w / "data")) for w in work_dirs]
    both = pd.concat(frames, ignore_index=True)
    kept = both.drop_duplicates(subset=["query", "positive_id"]).reset_index(drop=True)
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(work_dirs[0] / "data", out / "data")
    shutil.copy(work_dirs[0] / "fewshot.jsonl", out / "fewshot.jsonl")
    rewrite_pairs(out / "data", kept)
    return {"dir": out, "pairs": len(kept), "repeats_dropped": len(both) - len(kept),
            "passages": int(kept["positive_id"].nunique())}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("eval_dirs", type=Path, nargs="+")
    ap.add_argument("--tag", required=True)
    ap.add_argument("--about", default="")
    ap.add_argument("--bootstrap", type=int, default=1000)
    ap.add_argument("--against", type=Path, default=None,
                    help="an eval dir whose student is compared with the soup, not souped (e.g. the whole draw's)")
    ap.add_argument("--union", type=Path, nargs="+", default=None, metavar="WORK_DIR",
                    help="the draws' benchmarks/downstream.py work dirs (data/, fewshot.jsonl): fine-tune one student "
                         "on all their pairs (seed 0, the downstream recipe) and compare the soup with it (--against)")
    ap.add_argument("--devset", type=Path, default=None, help="with --union: the dev set")
    ap.add_argument("--set", action="append", default=[], metavar="STUDENT.KEY=VALUE", help="with --union")
    ap.add_argument("--seeds", action="store_true",
                    help="one EVAL_DIR: soup its seeds' students (synthir eval --seeds 0,1,2 --keep-models)")
    a = ap.parse_args(argv)
    if a.seeds:
        if len(a.eval_dirs) != 1 or a.union or a.against:
            raise SystemExit("--seeds takes one eval dir, without --union or --against")
        r = seed_soup(a.eval_dirs[0].resolve(), a.bootstrap)
        heldout.write(f"soup-{a.tag}", {"about": a.about, **r},
                      f"# Model soup of one eval's seed students: {a.tag}\n\n{a.about}\n\nnDCG@10; 95% CIs from a "
                      f"paired bootstrap over questions.\n\n{seed_table(r)}")
        return 0
    if len(a.eval_dirs) < 2:
        raise SystemExit("a soup needs at least two eval dirs (one per generation draw)")
    union = None
    if a.union:
        if a.against or not a.devset:
            raise SystemExit("--union needs --devset and replaces --against")
        from downstream import evaluate, override

        override(a.set)
        union = union_copy([w.resolve() for w in a.union], a.union[0].resolve() / f"union-{a.tag}")
        a.against = union["dir"] / "eval-union"
        student = heldout._json(a.eval_dirs[0] / "eval.json")["model"]
        evaluate(union["dir"] / "data", a.devset, student, "mnrl", [0], a.against, union["dir"] / "fewshot.jsonl")
    r = soup([d.resolve() for d in a.eval_dirs], a.bootstrap, a.against.resolve() if a.against else None)
    if union:
        r["union"] = {k: v for k, v in union.items() if k != "dir"}
    heldout.write(f"soup-{a.tag}", {"about": a.about, **r},
                  f"# Model soup of the draws' students: {a.tag}\n\n{a.about}\n\nnDCG@10; 95% CIs from a paired "
                  f"bootstrap over questions.\n\n{table(r)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
