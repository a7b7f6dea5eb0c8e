"""Is an LLM yes/no judge a better GPL teacher than the e5 embedder? (issue 12, part 2)

    .venv/bin/python benchmarks/llm_teacher.py --dataset DIR --devset DEVSET \
        [--model embedded|embedded-instruct] [--seeds 0] [--no-train] --work WORK --tag NAME

1. Teacher quality, before any training: the judge (synthir.llm.judge.YesNoJudge, llama.cpp,
   P(yes) from next-token log-probs) scores every (query, positive) and (query, negative) of
   the dataset's published `distill` rows (the e5 teacher's margins). Reported per teacher:
   the share of rows whose margin says the positive beats the negative, and the Spearman
   correlation of the two teachers' margins. On the dev set's human-TRAIN half (the test half
   is never looked at), the judge and e5 each order the relevant page against the 3 wrong pages
   the miner (USE) ranks highest: a direct accuracy of each teacher on real questions.
2. Downstream (unless --no-train): a copy of the dataset whose `distill` labels are the LLM
   margins, evaluated like benchmarks/downstream.py (`--student`, default MiniLM; MNRL +
   MarginMSE, human split 0.5, same test half), so it pairs with the e5-teacher run, or the
   student's MNRL-only run of benchmarks/downstream.py, via `synthir eval-compare`.

Writes benchmarks/results/llm_teacher-TAG.json and .md.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from synthir.cli import seed_list

ROOT = Path(__file__).resolve().parents[1]


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    return float(np.corrcoef(ra, rb)[0, 1])


def _distill_file(dataset: Path) -> Path:
    files = sorted((dataset / "data" / "distill").glob("*.parquet"))
    if len(files) != 1:
        raise SystemExit(f"{dataset}: expected one distill parquet file, found {len(files)}")
    return files[0]


def distill_frame(dataset: Path, per_pair: int = 0) -> Any:
    """The published distill rows (DataFrame); with `per_pair` > 0 only the first `per_pair` of
    each (query, positive): its hardest mined negatives."""
    import pandas as pd

    df = pd.read_parquet(_distill_file(dataset))
    if per_pair > 0:
        df = df.groupby(["query", "positive"], sort=False).head(per_pair).reset_index(drop=True)
    return df


def judge_distill(judge: Any, dataset: Path, per_pair: int = 0) -> tuple[Any, dict[str, Any]]:
    """LLM margins for the distill rows of `distill_frame(dataset, per_pair)`: (DataFrame with
    llm_pos, llm_neg, llm_label, stats)."""
    df = distill_frame(dataset, per_pair)
    pairs = sorted({(q, p) for q, p in zip(df["query"], df["positive"])} |
                   {(q, n) for q, n in zip(df["query"], df["negative"])})
    t0 = time.time()
    scores = dict(zip(pairs, judge(pairs).tolist()))
    df["llm_pos"] = [scores[(q, p)] for q, p in zip(df["query"], df["positive"])]
    df["llm_neg"] = [scores[(q, n)] for q, n in zip(df["query"], df["negative"])]
    df["llm_label"] = df["llm_pos"] - df["llm_neg"]
    stats = {"rows": len(df), "pairs_judged": len(pairs), "judge_seconds": round(time.time() - t0, 1),
             "e5_pos_beats_neg": round(float((df["label"] > 0).mean()), 4),
             "llm_pos_beats_neg": round(float((df["llm_label"] > 0).mean()), 4),
             "spearman_margins": round(_spearman(df["label"].to_numpy(), df["llm_label"].to_numpy()), 4),
             "llm_score_mean_pos": round(float(df["llm_pos"].mean()), 4),
             "llm_score_mean_neg": round(float(df["llm_neg"].mean()), 4),
             "e5_label_std": round(float(df["label"].std()), 4),
             "llm_label_std": round(float(df["llm_label"].std()), 4)}
    return df, stats


def human_train_accuracy(judge: Any, devset: Path, negatives: int = 3) -> dict[str, Any]:
    """Each teacher's accuracy on real questions of the human-TRAIN half: the share of (relevant
    page, wrong page) pairs it orders correctly, the wrong pages being the `negatives` ranked
    highest by the miner of the dev-set runs (USE), as mined negatives are."""
    from data_schemas.config import EmbedderConfig
    from synthir.embed.registry import get_embedder
    from synthir.eval.harness import default_human_split
    from synthir.eval.retrieval import doc_text
    from synthir.filters.verify import embedder_scorer
    from synthir.io.beir import read_beir

    data = read_beir(devset)
    split, hs = default_human_split(data, devset, 0.5, 0)
    train = hs.train
    miner = get_embedder(EmbedderConfig(name="use-multilingual"))  # the dev-set runs' miner
    doc_ids = list(data.corpus)
    d_emb = miner.encode([doc_text(data.corpus[d]) for d in doc_ids], "passage")
    e5_score = embedder_scorer(get_embedder(EmbedderConfig(name="e5-small")))
    pairs = []
    for q in train:
        rel = {d for d, s in data.qrels[split][q].items() if s > 0}
        text = data.queries[q]
        order = [doc_ids[i] for i in np.argsort(-(d_emb @ miner.encode([text], "query")[0]))]
        wrong = [d for d in order if d not in rel][:negatives]
        for r in sorted(rel):
            for w in wrong:
                pairs.append((text, doc_text(data.corpus[r]), doc_text(data.corpus[w])))
    flat = [(q, p) for q, p, _ in pairs] + [(q, n) for q, _, n in pairs]
    t0 = time.time()
    llm = judge(flat)
    secs = time.time() - t0
    emb = e5_score(flat)
    n = len(pairs)
    return {"train_queries": len(train), "pairs": n, "judge_seconds": round(secs, 1),
            "llm_accuracy": round(float((llm[:n] > llm[n:]).mean()), 4),
            "llm_ties": round(float((llm[:n] == llm[n:]).mean()), 4),
            "e5_accuracy": round(float((emb[:n] > emb[n:]).mean()), 4)}


def relabelled_copy(dataset: Path, df: Any, out: Path, column: str = "llm_label") -> Path:
    """The dataset with its `distill` rows replaced by `df`'s, labelled with `column` (the LLM
    margins, or the e5 ones of the same rows): a benchmark copy."""
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(dataset, out)
    target = _distill_file(out)
    keep = [c for c in df.columns if not c.startswith("llm_")]
    new = df[keep].copy()
    new["label"] = df[column].astype(new["label"].dtype)
    new.to_parquet(target, index=False)
    return out


def scaled_copy(unscaled: Path, out: Path, scale: float) -> Path:
    """`unscaled` (a relabelled copy an earlier run left, margins at scale 1) copied to `out` with
    its `distill` labels multiplied by `scale`: the same rows and teacher, judged once."""
    if not (unscaled / "README.md").is_file():
        raise SystemExit(f"--reuse-copy: {unscaled} holds no relabelled dataset to scale")
    df = distill_frame(unscaled)
    df["llm_scaled"] = df["label"] * scale
    return relabelled_copy(unscaled, df, out, "llm_scaled")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", type=Path, required=True)
    ap.add_argument("--devset", type=Path, required=True)
    ap.add_argument("--model", default="embedded", help="embedded (Gemma 270M) or embedded-instruct (Qwen 0.5B)")
    ap.add_argument("--seeds", type=seed_list, default="0")
    ap.add_argument("--student", default="minilm", choices=["minilm", "e5-small"], help="the student fine-tuned on the margins: minilm or e5-small "
                    "(benchmarks/downstream.py's recipes)")
    ap.add_argument("--shown", type=Path, default=None,
                    help="the run's examples file (fewshot.jsonl beside the dev set's data): also score every "
                         "human-train question the generator was not shown, as benchmarks/downstream.py does")
    ap.add_argument("--no-train", action="store_true")
    ap.add_argument("--no-human-train", action="store_true", help="skip the accuracy on human-train questions")
    ap.add_argument("--negatives-per-pair", type=int, default=0,
                    help="judge only the first N distill rows of each pair (its hardest mined negatives)")
    ap.add_argument("--teachers", default="llm", help="fine-tune on these labels of the same rows: llm,e5 "
                    "(e5 alone: no judge is run)")
    ap.add_argument("--label-scale", type=float, default=1.0,
                    help="multiply the margins before training (the student's own margins are ~0.1-0.3)")
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--tag", required=True)
    ap.add_argument("--reuse-copy", action="store_true",
                    help="train on the relabelled dataset copies an earlier run of the same --tag left in --work "
                         "(its judge statistics are already in its results JSON) instead of judging again; with "
                         "--label-scale, the unscaled copy's margins are scaled into a new copy")
    ap.add_argument("--set", action="append", default=[], metavar="STUDENT.KEY=VALUE",
                    help="override a student recipe as benchmarks/downstream.py --set does (e.g. e5-small.precision=bf16)")
    a = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from downstream import override

    override(a.set)
    from data_schemas.config import LLMConfig
    from synthir.llm.judge import YesNoJudge

    teachers = a.teachers.split(",")
    res: dict[str, Any] = {"dataset": a.dataset.name, "devset": a.devset.name, "student": a.student,
                           "label_scale": a.label_scale,
                           "negatives_per_pair": a.negatives_per_pair}
    out_json = ROOT / "benchmarks" / "results" / f"llm_teacher-{a.tag}.json"
    df = None
    if a.reuse_copy:  # judged before: its statistics, and the copies in --work
        if not out_json.is_file():
            raise SystemExit(f"--reuse-copy: no earlier results {out_json.name} for --tag {a.tag}")
        res = {**json.loads(out_json.read_text(encoding="utf-8")), "student": a.student, "reused_copy": True,
               "label_scale": a.label_scale}
        res.pop("eval", None)  # the earlier run's training; this run's replaces it
    elif teachers == ["e5"] and a.no_human_train:  # the e5 margins are published: no judge needed
        df = distill_frame(a.dataset, a.negatives_per_pair)
    else:
        judge = YesNoJudge(LLMConfig(backend="llamacpp", model=a.model))
        res["judge"] = judge.name
        if not a.no_human_train:
            res["human_train"] = human_train_accuracy(judge, a.devset)
            print(json.dumps(res, indent=1), flush=True)
        df, res["distill"] = judge_distill(judge, a.dataset, a.negatives_per_pair)
        print(json.dumps(res, indent=1), flush=True)
    for column in ("label", "llm_label"):
        if df is not None and column in df:
            df[column] = df[column] * a.label_scale
    if a.reuse_copy:  # a scaled rerun writes its own results; the judged run's stay
        out_json = out_json.with_name(f"llm_teacher-{a.tag}" + (f"-x{a.label_scale:g}" if a.label_scale != 1 else "")
                                      + ".json")
    out_json.write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
    if not a.no_train:
        from downstream import evaluate

        res["eval"] = {}
        for teacher in teachers:
            name = f"{teacher}-teacher" + (f"-x{a.label_scale:g}" if a.label_scale != 1 else "")
            copy = a.work / f"dataset-{name}"
            if df is not None:
                relabelled_copy(a.dataset, df, copy, "llm_label" if teacher == "llm" else "label")
            elif a.label_scale != 1:
                scaled_copy(a.work / f"dataset-{teacher}-teacher", copy, a.label_scale)
            elif not (copy / "README.md").is_file():
                raise SystemExit(f"--reuse-copy: {copy} holds no relabelled dataset")
            res["eval"][teacher] = evaluate(copy, a.devset, a.student, "mnrl+marginmse",
                                            a.seeds,
                                            a.work / f"eval-{a.student}-mnrl+marginmse-{name}", a.shown)
            out_json.write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
