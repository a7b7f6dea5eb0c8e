"""Synthetic vs base on every real question the synthetic arm never saw, not only the test half.

    .venv/bin/python benchmarks/heldout.py --tag NAME [--about "what was run"] EVAL_DIR [EVAL_DIR ...]

Why: `synthir eval --human-split 0.5` scores every arm on half the questions, because the human
arm trains on the other half. The synthetic arm never trains on a human question: its
generator saw only the few-shot examples (8 pairs drawn from the human-train half by
`benchmarks/downstream.py --fewshot-human`). So synthetic − base can also be measured on the
human-train half, minus those examples -- twice the questions and a narrower interval, for
the "beats its base" condition. The comparison with the human arm stays on the test half.
`synthir eval --score-unseen SHOWN` now does this inside the eval, over every seed
(eval/unseen.py; benchmarks/downstream.py passes it); this script does it afterwards, for eval
dirs made before, with the student of the first seed that the dir keeps.

EVAL_DIR is an eval dir written by benchmarks/downstream.py: eval.json (BEIR dir, base model,
prefixes, max_seq_length, human split), model/ (the synthetic student of the first seed) and
the generator's examples at ../fewshot.jsonl (override with --fewshot FILE, or
--fewshot none when the run had no examples). Left out of the train half: every question whose
text (casefolded, spaces collapsed) is a few-shot example's, a synthetic training query's or
a test question's.

For each dir it encodes the corpus with the base model and with model/, scores nDCG@10 per
question (eval/retrieval.py), and bootstraps synthetic − base (eval/bootstrap.py) on the test
half, on the train half's unseen questions and on both; then pools the dirs' unseen questions.
As a check, the test-half scores must reproduce the eval's own seed-0 per_query.json (the
largest per-question difference is reported). Writes benchmarks/results/heldout-NAME.json
and .md; one-line errors for a missing file, never a local path in the results.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

from synthir.errors import InputError
from synthir.eval.human import split_queries
from synthir.eval.retrieval import per_query, query_groups, retrieve
from synthir.eval.unseen import delta_summary, read_shown, unseen_train
from synthir.eval.versus import load_per_query
from synthir.io.beir import read_beir

ROOT = Path(__file__).resolve().parents[1]

METRIC = "ndcg@10"


def _json(path: Path) -> Any:
    if not path.is_file():
        raise SystemExit(f"{path.parent.name}/{path.name}: missing (is this an eval dir of benchmarks/downstream.py?)")
    return json.loads(path.read_text(encoding="utf-8"))


def _synthetic_queries(dataset: list[Path], opts: dict[str, Any]) -> set[str]:
    """Every query text of the training rows the synthetic student was fine-tuned on (read as
    the eval read them: eval/train_data.py's `load_training` with the eval's options)."""
    from dataclasses import fields

    from synthir.eval.harness import _training_queries
    from synthir.eval.train import TrainOptions
    from synthir.eval.train_data import load_training

    names = {f.name for f in fields(TrainOptions)}
    try:
        sets = load_training(dataset, TrainOptions(**{k: v for k, v in opts.items() if k in names}))
    except InputError as e:
        raise SystemExit(f"{', '.join(d.name for d in dataset)}: cannot read the training data ({e})") from None
    return set(_training_queries(sets))


def partition(qids: list[str], queries: dict[str, str], fraction: float, seed: int,
              seen: set[str]) -> dict[str, Any]:
    """{"test", "unseen_train", "left_out"}: the eval's test half, the human-train half minus
    every question whose normalised text is in `seen` or a test question's, and how many that
    removed."""
    hs = split_queries(qids, fraction, seed)
    unseen = unseen_train(hs.train, hs.test, queries, seen)  # as `synthir eval --score-unseen`
    return {"test": hs.test, "unseen_train": unseen, "left_out": len(hs.train) - len(unseen)}


def summarise(base: dict[str, float], synth: dict[str, float], qids: list[str], resamples: int) -> dict[str, Any]:
    """Means of both arms over `qids` and the bootstrap of synthetic − base (eval/unseen.py)."""
    return delta_summary(base, [synth], qids, resamples)


def student(eval_dir: Path) -> Path:
    """`eval_dir`/model, the synthetic student of the first seed; one-line SystemExit without it."""
    if not (eval_dir / "model").is_dir():
        raise SystemExit(f"{eval_dir.name}: no model/ (the synthetic student of the first seed)")
    return eval_dir / "model"


def retrieval_kw(opts: dict[str, Any]) -> dict[str, Any]:
    """`retrieve`'s options as the eval searched (eval.json's "options")."""
    return {"k": opts["k"], "query_prefix": opts["query_prefix"], "passage_prefix": opts["passage_prefix"]}


def setup(eval_dir: Path, fewshot: str | None) -> dict[str, Any]:
    """What scoring `eval_dir`'s students needs: {"info" (eval.json), "opts", "data" (the BEIR
    dev set), "split", "qids" (every judged question), "part" (`partition`), "kw" (retrieval
    options)}; one-line SystemExit for a dir without a human split, model/ or examples file."""
    info = _json(eval_dir / "eval.json")
    opts, hsplit = info["options"], info.get("human_split")
    if not hsplit:
        raise SystemExit(f"{eval_dir.name}: the eval had no human split: its test set is every question already")
    student(eval_dir)
    shots = eval_dir.parent / "fewshot.jsonl" if fewshot is None else None if fewshot == "none" else Path(fewshot)
    if shots is not None and not shots.is_file():
        raise SystemExit(f"{shots.name}: missing next to {eval_dir.name} (pass --fewshot FILE or --fewshot none)")
    beir = Path(info["beir"])
    try:
        data = read_beir(beir)
    except (InputError, OSError) as e:
        raise SystemExit(f"{beir.name}: cannot read the dev set ({e})") from None
    split = info["qrels_split"]
    qids = query_groups(data, split, data.query_langs)["all"]
    try:
        shown = read_shown(shots) if shots else set()
    except InputError as e:
        raise SystemExit(str(e)) from None
    dirs = info["dataset"] if isinstance(info["dataset"], list) else [info["dataset"]]  # a list: several datasets
    seen = shown | _synthetic_queries([Path(d) for d in dirs], opts)
    part = partition(qids, data.queries, hsplit["fraction"], hsplit["seed"], seen)
    return {"info": info, "opts": opts, "data": data, "split": split, "qids": qids, "part": part,
            "kw": retrieval_kw(opts)}


def heldout(eval_dir: Path, fewshot: str | None, resamples: int = 1000) -> dict[str, Any]:
    """Score base and the seed-0 synthetic student of `eval_dir` on every judged question; the
    summaries of the module doc plus per-question deltas of the unseen questions."""
    from synthir.eval.harness import _load_model

    ctx = setup(eval_dir, fewshot)
    info, opts, data, split, qids, part, kw = (ctx[k] for k in ("info", "opts", "data", "split", "qids", "part", "kw"))
    beir = Path(info["beir"])
    scores = {}
    for arm, name in (("base", info["model"]), ("synthetic", str(eval_dir / "model"))):
        st = _load_model(name, opts.get("max_seq_length"))
        scores[arm] = per_query(retrieve(st, data, split, **kw), data, split, qids)[METRIC]
        del st
    recorded = load_per_query(eval_dir)["arms"]
    drift = max(abs(scores[arm][q] - recorded[arm][0][METRIC][q]) for arm in scores for q in part["test"])
    both = part["test"] + part["unseen_train"]
    return {"eval": eval_dir.name, "devset": beir.name, "model": info["model"],
            "left_out_of_train_half": part["left_out"], "max_drift_from_eval_per_query": round(float(drift), 4),
            "test_half": summarise(scores["base"], scores["synthetic"], part["test"], resamples),
            "unseen_train_half": summarise(scores["base"], scores["synthetic"], part["unseen_train"], resamples),
            "all_unseen": summarise(scores["base"], scores["synthetic"], both, resamples),
            "per_question": {q: {"base": scores["base"][q], "synthetic": scores["synthetic"][q]} for q in both}}


def pool(runs: list[dict[str, Any]], resamples: int = 1000) -> dict[str, Any]:
    """`summarise` over every run's unseen questions together (ids made unique per run)."""
    base, synth = {}, {}
    for i, r in enumerate(runs):
        for q, v in r["per_question"].items():
            base[f"{i}|{q}"], synth[f"{i}|{q}"] = v["base"], v["synthetic"]
    return summarise(base, synth, list(base), resamples)


def _row(name: str, s: dict[str, Any]) -> str:
    d = s["delta"]
    return (f"| {name} | {s['queries']} | {s['base']:.3f} | {s['synthetic']:.3f} | "
            f"{d['mean']:+.3f} [{d['ci_low']:+.3f}, {d['ci_high']:+.3f}] |")


def _label(devset: str) -> str:
    """A dev set's language code when its name ends in one (`...-de`), else its name."""
    m = re.search(r"-([a-z]{2})$", devset)
    return m.group(1) if m else devset


def table(runs: list[dict[str, Any]], pooled: dict[str, Any] | None) -> str:
    """Markdown: per dir, test half / unseen train half / both; then the pool."""
    rows = ["| eval / questions | q. | base | synthetic | synthetic − base (95% CI) |", "|---|---:|---:|---:|---|"]
    for r in runs:
        for key, label in (("test_half", "test half"), ("unseen_train_half", "train half, unseen"),
                           ("all_unseen", "all unseen")):
            rows.append(_row(f"{_label(r['devset'])}: {label}", r[key]))
    if pooled:
        rows.append(_row("pooled: all unseen", pooled))
    return "\n".join(rows) + "\n"


def chained_parser(doc: str, result: str) -> argparse.ArgumentParser:
    """The arguments of a script that reads another script's result: RESULT_JSON (`result`),
    EVAL_DIR..., --tag, --about (moves.py reads wiseft.py's, margins.py reads moves.py's)."""
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    ap.add_argument(result, type=Path)
    ap.add_argument("eval_dirs", type=Path, nargs="+")
    ap.add_argument("--tag", required=True)
    ap.add_argument("--about", default="")
    return ap


def read_runs(path: Path, script: str) -> list[dict[str, Any]]:
    """The "runs" of a result file that benchmarks/`script` wrote; one-line SystemExit for a
    missing file or one without runs (wiseft.py's results feed moves.py, moves.py's margins.py)."""
    if not path.is_file():
        raise SystemExit(f"{path.name}: missing (a benchmarks/{script} result)")
    try:
        return json.loads(path.read_text(encoding="utf-8"))["runs"]
    except (ValueError, KeyError, TypeError):
        raise SystemExit(f"{path.name}: not a benchmarks/{script} result (no runs)") from None


def write(name: str, payload: dict[str, Any], md: str) -> None:
    """benchmarks/results/NAME.json (`payload`) and NAME.md (`md`, also printed). A name may
    hold dots (a tag like 1.5b), so no suffix is replaced."""
    out = ROOT / "benchmarks" / "results" / name
    Path(f"{out}.json").write_text(json.dumps(payload, indent=2) + "\n")
    Path(f"{out}.md").write_text(md)
    print(md)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("eval_dirs", type=Path, nargs="+")
    ap.add_argument("--tag", required=True)
    ap.add_argument("--about", default="")
    ap.add_argument("--fewshot", default=None, help="the generator's examples (default ../fewshot.jsonl; 'none')")
    ap.add_argument("--bootstrap", type=int, default=1000)
    a = ap.parse_args(argv)
    runs = [heldout(d.resolve(), a.fewshot, a.bootstrap) for d in a.eval_dirs]
    pooled = pool(runs, a.bootstrap) if len(runs) > 1 else None
    write(f"heldout-{a.tag}", {"about": a.about, "runs": runs, "pooled": pooled},
          f"# Synthetic vs base on every unseen question: {a.tag}\n\n{a.about}\n\n{table(runs, pooled)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
