"""`synthir eval`: base vs fine-tuned (synthetic, and optionally human) retrieval quality on a
BEIR dir, over one or several training seeds.

Output in EVAL_DIR:
- metrics.json {"base": {"ndcg@10", "recall@100", "mrr@10"}, "tuned": {...}, "human": {...}}
  (tuned = the synthetic arm, mean over seeds; human only with a human split);
- metrics_by_group.json, the same per query group (all, mono / cross-lingual, per language);
- comparison.json: per arm and group mean/std/min/max over seeds, and paired bootstrap CIs of
  the nDCG@10 deltas (see eval/compare.py);
- eval.json (options, sizes, training stats per seed, seconds);
- per_query.json: every arm's per-query scores per seed on the test queries, for a paired
  comparison of two eval dirs (`synthir eval-compare`, eval/versus.py);
- with `--score-unseen`, comparison.json's "unseen": synthetic − base over the test queries and
  the human-train queries the synthetic arm never saw (eval/unseen.py);
- model/ (the synthetic model of the first seed), model-human/ (the human one, if any); with
  `--keep-models`, every further seed's too: model-seed{S}/, model-human-seed{S}/ (for a
  uniform soup of the seeds' students, benchmarks/soup.py `--seeds`).

In-process use (benchmarks): `run_eval(dataset, beir, out, opts=TrainOptions(epochs=2),
eval_opts=EvalOptions(seeds=[0, 1, 2], human_split=0.5))`.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from synthir.errors import ConfigError, InputError
from synthir.eval.compare import BOOTSTRAP_METRIC, compare, table  # noqa: F401  (table: the CLI's printer)
from synthir.eval.freeze import check_freeze
from synthir.eval.human import check_disjoint, human_pairs, shown_pairs, split_queries
from synthir.eval.merge import training_record
from synthir.eval.query_side import asymmetric, router_of
from synthir.eval.retrieval import METRICS, per_query, query_groups, retrieve
from synthir.eval.train import TrainOptions, finetune, resolve_device
from synthir.eval.train_data import as_dirs, load_training
from synthir.eval.unseen import norm, read_shown, unseen_summary, unseen_train
from synthir.eval.versus import PER_QUERY, per_query_record
from synthir.io.beir import read_beir
from synthir.io.files import write_json_atomic


@dataclass
class EvalOptions:
    """What to compare (CLI flags of `synthir eval`); the recipe itself is TrainOptions.

    seeds: training seeds, one fine-tune per seed and arm (None: [TrainOptions.seed]);
    human_split: fraction of the judged queries to train the human arm on (None: no human
    arm, every judged query is a test query); human_seed: seed of that split;
    resamples / bootstrap_seed: the paired bootstrap over queries;
    score_unseen: with a human split, also score synthetic − base on the human-train queries
    the synthetic arm never saw -- the JSONL of examples its generator was shown, or "none"
    (eval/unseen.py);
    train_shown: the synthetic arm also trains on the questions its generator was shown (the
    score_unseen file), each with its judged pages from the human-train part: Promptagator's
    few-shot examples are labelled in-domain data, a handful of the human arm's own pairs
    (shown_pairs);
    keep_models: save every seed's students, not only the first seed's (`model_dir`)."""

    seeds: list[int] | None = None
    human_split: float | None = None
    human_seed: int = 0
    resamples: int = 1000
    bootstrap_seed: int = 0
    score_unseen: Path | str | None = None
    train_shown: bool = False
    keep_models: bool = False

    def check(self) -> None:
        """Raise ConfigError (one line, naming the flag) for options that cannot run."""
        if self.seeds is not None and (not self.seeds or len(set(self.seeds)) != len(self.seeds)):
            raise ConfigError(f"--seeds must be distinct integers, e.g. 0,1,2 (got {self.seeds})")
        if self.human_split is not None and not 0.0 < self.human_split < 1.0:
            raise ConfigError(f"--human-split must be a fraction in (0, 1) (got {self.human_split})")
        if self.score_unseen is not None and self.human_split is None:
            raise ConfigError("--score-unseen needs --human-split (without one every judged query is a test query)")
        if self.train_shown and (self.score_unseen is None or str(self.score_unseen) == "none"):
            raise ConfigError("--train-shown needs --score-unseen SHOWN.jsonl (the examples the generator was shown)")
        if self.resamples < 1:
            raise ConfigError(f"--bootstrap must be >= 1 resamples (got {self.resamples})")


def model_dir(out_dir: Path, arm: str, index: int, seed: int, keep_all: bool) -> Path | None:
    """Where the student of `arm` ("synthetic" | "human") trained with the `index`-th seed
    (`seed`) is saved: the first seed's in model/ or model-human/, a later seed's in
    model-seed{seed}/ or model-human-seed{seed}/ with `keep_all` (`--keep-models`), else None."""
    stem = "model" if arm == "synthetic" else "model-human"
    if index == 0:
        return out_dir / stem
    return out_dir / f"{stem}-seed{seed}" if keep_all else None


def drop_stale_models(out_dir: Path) -> list[str]:
    """Remove the later seeds' model dirs an earlier eval left in `out_dir` (model-seed{S}/,
    model-human-seed{S}/): each run keeps only its own students, so a soup or a deploy never
    picks up another run's. model/ and model-human/ are overwritten by every run anyway.
    Output: the names removed."""
    import re
    import shutil

    ours = re.compile(r"model(-human)?-seed-?\d+")
    stale = sorted(d for d in out_dir.glob("model*-seed*") if d.is_dir() and ours.fullmatch(d.name))
    for d in stale:
        shutil.rmtree(d)
    return [d.name for d in stale]


def _load_model(name: str, max_seq_length: int | None = None, device: str = "cpu") -> Any:
    """A fresh SentenceTransformer of `name` on `device` (cpu | cuda | auto, eval/train.py's
    resolve_device); `max_seq_length` caps its tokens per text (memory: e5-small at its 512
    tokens x batch 32 took 23 GB to fine-tune with MNRL)."""
    from sentence_transformers import SentenceTransformer

    from synthir.embed.st import model_source

    st = SentenceTransformer(model_source(name), device=resolve_device(device))
    if max_seq_length:
        st.max_seq_length = max_seq_length
    return st


def _qrels_split(data: Any, wanted: str | None, beir_dir: Path) -> str:
    if wanted:
        if wanted not in data.qrels:
            raise InputError(f"{beir_dir}: no qrels/{wanted}.tsv (have {sorted(data.qrels)})")
        return wanted
    for split in ("test", "dev", "validation", "train"):
        if split in data.qrels:
            return split
    raise InputError(f"{beir_dir}: no qrels/*.tsv")


def default_human_split(data: Any, beir_dir: Path, fraction: float, seed: int = 0) -> tuple[str, Any]:
    """(qrels split, HumanSplit) exactly as `run_eval` makes them without `--qrels-split`: the
    split it scores (test, else dev, validation, train) and its judged queries cut into
    human-train / test by `fraction` and `seed`. For benchmarks that must use the same halves
    (a selection set, in-domain examples, a teacher's accuracy) without training anything."""
    split = _qrels_split(data, None, beir_dir)
    return split, split_queries(query_groups(data, split, data.query_langs)["all"], fraction, seed)


def _training_queries(sets: dict[str, tuple[str, Any]]) -> list[str]:
    """Every synthetic training row's query text, normalised (eval/unseen.py's `norm`)."""
    out: list[str] = []
    for _, rows in sets.values():
        column = "anchor" if "anchor" in rows.column_names else "query"
        out += [norm(t) for t in rows[column]]
    return out


def data_sha256(sets: dict[str, tuple[str, Any]]) -> str:
    """sha256 of the synthetic arm's training rows (every loss's config and rows, in order): two
    evals with equal values trained on the same data; a fresh generation draw differs
    (`synthir eval-merge` vs `--draws`, eval/draws.py)."""
    h = hashlib.sha256()
    for loss in sorted(sets):
        config, rows = sets[loss]
        h.update(json.dumps([loss, config], ensure_ascii=False).encode("utf-8"))
        for row in rows:
            h.update(json.dumps(row, sort_keys=True, ensure_ascii=False, default=str).encode("utf-8"))
    return h.hexdigest()


def _overlap(sets: dict[str, tuple[str, Any]], test_texts: set[str]) -> int:
    """Synthetic training rows whose query text is a test query's (a contamination signal)."""
    return sum(t in test_texts for t in _training_queries(sets))


def _shown(score_unseen: Path | str | None) -> set[str] | None:
    """The normalised questions of `--score-unseen`'s file (read once, for the unseen scoring and
    `--train-shown`); an empty set for `none`, None without the flag."""
    if score_unseen is None:
        return None
    return set() if str(score_unseen) == "none" else read_shown(Path(score_unseen))


def _unseen_queries(shown: set[str] | None, data: Any, judged: list[str], test_qids: list[str],
                    sets: dict[str, tuple[str, Any]]) -> tuple[list[str], int]:
    """(human-train query ids the synthetic arm never saw, how many questions were shown to the
    generator) for `--score-unseen` (eval/unseen.py; `shown` from `_shown`); ([], 0) without
    it. Left out: a question shown, one equal to a synthetic training query, and one equal to a
    test question (it would count twice)."""
    if shown is None:
        return [], 0
    test = set(test_qids)
    train_qids = [q for q in judged if q not in test]
    return unseen_train(train_qids, test_qids, data.queries, shown | set(_training_queries(sets))), len(shown)


def _with_shown(sets: dict[str, tuple[str, Any]], rows: list[dict[str, str]]) -> dict[str, tuple[str, Any]]:
    """`sets` with the shown examples' pairs (`rows`) added to every pair loss's rows
    (`--train-shown`); ConfigError when a pair loss's rows are not (anchor, positive) pairs
    (run_eval has already refused a loss without one)."""
    from datasets import Dataset, concatenate_datasets

    pair_losses = [name for name in sets if name != "marginmse"]
    extra = Dataset.from_list([{"anchor": r["anchor"], "positive": r["positive"]} for r in rows])
    out = dict(sets)
    for name in pair_losses:
        config, ds = sets[name]
        if set(ds.column_names) != {"anchor", "positive"}:
            raise ConfigError(f"--train-shown adds pairs, but the `{config}` rows have {ds.column_names}: "
                              "use --config pairs")
        out[name] = (config, concatenate_datasets([ds, extra.cast(ds.features)]))
    return out


def _only(runs: list[dict[str, dict[str, float]]], qids: list[str]) -> list[dict[str, dict[str, float]]]:
    """Per-query scores restricted to `qids` (every metric of every run)."""
    return [{m: {q: v[q] for q in qids} for m, v in r.items()} for r in runs]


def _human_split(data: Any, split: str, groups: dict[str, list[str]], eval_opts: EvalOptions
                 ) -> tuple[dict[str, list[str]], list[dict[str, str]], dict[str, Any] | None]:
    """(query groups restricted to the test part, human training pairs, split stats for
    eval.json); without a human split: (groups, [], None)."""
    if eval_opts.human_split is None:
        return groups, [], None
    hs = split_queries(groups["all"], eval_opts.human_split, eval_opts.human_seed)
    rows, dropped = human_pairs(data, split, hs)
    test = set(hs.test)
    groups = {g: [q for q in qids if q in test] for g, qids in groups.items()}
    groups = {g: qids for g, qids in groups.items() if qids or g == "all"}
    stats = {"fraction": eval_opts.human_split, "seed": eval_opts.human_seed, "train_queries": len(hs.train),
             "test_queries": len(hs.test), "train_pairs": len(rows),
             "train_queries_dropped_as_duplicate_text": dropped}
    return groups, rows, stats


def _arms(sets: dict[str, tuple[str, Any]], human_rows: list[dict[str, str]], opts: TrainOptions,
          split: str) -> dict[str, tuple[TrainOptions, dict[str, Any], str]]:
    """{arm: (recipe, {loss: rows}, source)}: the synthetic arm with `opts`; the human arm (when
    there are human pairs) with the same recipe, but MNRL where `opts` adds MarginMSE (human pairs
    have no teacher margins); `gist` trains both arms with the guided loss."""
    arms = {"synthetic": (opts, {name: rows for name, (_, rows) in sets.items()},
                          ", ".join(f"{name}: {cfg}" for name, (cfg, _) in sets.items()))}
    if human_rows:
        from datasets import Dataset

        rows = Dataset.from_list([{"anchor": r["anchor"], "positive": r["positive"]} for r in human_rows])
        loss = "gist" if opts.loss == "gist" else "mnrl"
        arms["human"] = (replace(opts, loss=loss), {loss: rows}, f"qrels/{split}.tsv human-train queries")
    return arms


def run_eval(dataset_dir: Path | str | list[Path], beir_dir: Path, out_dir: Path, model: str = "minilm",
             opts: TrainOptions | None = None, qrels_split: str | None = None, k: int = 100,
             query_prefix: str = "", passage_prefix: str = "",
             eval_opts: EvalOptions | None = None) -> dict[str, Any]:
    """Evaluate `model` on `beir_dir` once, fine-tune a fresh copy on `dataset_dir` per seed
    (and on the human-train queries with a human split), evaluate each; write the files of
    the module doc. `dataset_dir` may be a list: the synthetic arm trains on all their rows
    (eval/train.py's load_training), e.g. one student on every language's dataset.

    Output: {"metrics": metrics.json, "groups": metrics_by_group.json, "comparison":
    comparison.json, "info": eval.json}. Bad input: InputError / ConfigError, before any
    model is loaded."""
    opts, eval_opts = (opts or TrainOptions()).for_student(model), eval_opts or EvalOptions()
    eval_opts.check()
    if eval_opts.train_shown and opts.loss_parts == ["marginmse"]:
        raise ConfigError("--train-shown adds (question, page) pairs: use a loss with MNRL or GIST")
    try:
        import ir_measures  # noqa: F401
    except ImportError:
        raise ConfigError("synthir eval needs the [eval] extra: pip install 'synthir[eval]'") from None
    t0 = time.time()
    dirs = as_dirs(dataset_dir)
    beir_dir, out_dir = Path(beir_dir), Path(out_dir)
    sets = load_training(dirs, opts)  # fail before any encoding
    data = read_beir(beir_dir)
    split = _qrels_split(data, qrels_split, beir_dir)
    groups = query_groups(data, split, data.query_langs)
    if not groups["all"]:
        raise InputError(f"{beir_dir}: no judged query of qrels/{split}.tsv is in queries.jsonl")
    seeds = list(eval_opts.seeds) if eval_opts.seeds is not None else [opts.seed]
    judged = groups["all"]
    groups, human_rows, info_split = _human_split(data, split, groups, eval_opts)
    test_qids = groups["all"]
    check_disjoint((r["query_id"] for r in human_rows), test_qids)
    shown = _shown(eval_opts.score_unseen)  # before any model
    unseen, n_shown = _unseen_queries(shown, data, judged, test_qids, sets)
    shown_rows = shown_pairs(human_rows, shown or set()) if eval_opts.train_shown else []
    if shown_rows:
        sets = _with_shown(sets, shown_rows)
    scored = test_qids + unseen
    out_dir.mkdir(parents=True, exist_ok=True)
    drop_stale_models(out_dir)
    kw = {"k": k, "query_prefix": query_prefix, "passage_prefix": passage_prefix}

    def evaluate(st: Any) -> dict[str, dict[str, float]]:
        return per_query(retrieve(st, data, split, **kw), data, split, scored)

    device = resolve_device(opts.device)  # once: every arm on the same device, the one recorded
    t_base = time.time()
    base = _load_model(model, opts.max_seq_length, device)
    if router_of(base) is not None:  # a saved --query-side student: its towers cannot be fine-tuned again as one
        raise ConfigError(f"--model {model}: a two-tower (query-side) model; synthir eval fine-tunes one-tower "
                          "models: pass the model it was trained from")
    if opts.freeze_layers:  # a count the student cannot take fails before any encoding
        check_freeze(base[0], opts.freeze_layers)
    arms: dict[str, list[dict[str, dict[str, float]]]] = {"base": [evaluate(base)]}
    del base  # each arm loads its own fresh copy
    base_s = time.time() - t_base
    training: dict[str, dict[str, Any]] = {}
    for arm, (arm_opts, arm_sets, source) in _arms(sets, human_rows, opts, split).items():
        training[arm] = {"source": source, "loss": arm_opts.loss,
                         "rows": sum(len(r) for r in arm_sets.values()), "runs": []}
        arms[arm] = []
        for i, seed in enumerate(seeds):  # a fresh copy of the base model per seed
            st = _load_model(model, opts.max_seq_length, device)
            if arm_opts.query_side:  # two towers: the query one trains, passages keep the base's embeddings
                st = asymmetric(st)
            save_to = model_dir(out_dir, arm, i, seed, eval_opts.keep_models)
            run_opts = replace(arm_opts, seed=seed, device=device, query_prefix=query_prefix,
                               passage_prefix=passage_prefix)
            stats = finetune(st, arm_sets, out_dir, run_opts, save_to=save_to)
            training[arm]["runs"].append({"seed": seed, **stats})
            arms[arm].append(evaluate(st))
            del st
    kept_unseen = None if eval_opts.score_unseen is None else {
        "qids": unseen, "train_queries": len(judged) - len(test_qids), "shown": n_shown,
        "base": {q: arms["base"][0][BOOTSTRAP_METRIC][q] for q in unseen},
        "synthetic": [{q: r[BOOTSTRAP_METRIC][q] for q in unseen} for r in arms["synthetic"]]}
    unseen_block = None if eval_opts.score_unseen is None else unseen_summary(
        arms["base"][0][BOOTSTRAP_METRIC], [r[BOOTSTRAP_METRIC] for r in arms["synthetic"]], test_qids, unseen,
        len(judged) - len(test_qids), n_shown, eval_opts.resamples, eval_opts.bootstrap_seed)
    arms = {a: _only(runs, test_qids) for a, runs in arms.items()}  # every arm on the test queries only
    comparison = compare(arms, groups, eval_opts.resamples, eval_opts.bootstrap_seed)
    if unseen_block is not None:
        comparison["unseen"] = unseen_block
    key = {"base": "base", "synthetic": "tuned", "human": "human"}
    means = {a: {g: {m: s["mean"] for m, s in ms.items()} for g, ms in summary.items()}
             for a, summary in comparison["arms"].items()}
    metrics = {key[a]: means[a]["all"] for a in means}
    by_group = {g: {key[a]: means[a][g] for a in means} for g in groups}
    test_texts = {norm(data.queries[q]) for q in test_qids}
    info = {"dataset": str(dirs[0]) if len(dirs) == 1 else [str(d) for d in dirs],  # a list: several datasets
            "beir": str(beir_dir), "qrels_split": split, "model": model,
            "train_config": sets["mnrl"][0] if "mnrl" in sets else "distill",
            "train_rows": training["synthetic"]["rows"], "train_rows_shown_examples": len(shown_rows),
            "train": training["synthetic"]["runs"][0],
            "training": training, "seeds": seeds, "human_split": info_split,
            "synthetic_rows_matching_a_test_query": _overlap(sets, test_texts),
            "options": {**asdict(opts), **asdict(eval_opts), "k": k, "query_prefix": query_prefix,
                        "passage_prefix": passage_prefix,
                        "score_unseen": None if eval_opts.score_unseen is None else str(eval_opts.score_unseen)},
            "device": device,
            "corpus": len(data.corpus), "queries": {g: len(q) for g, q in groups.items()},
            "metrics": list(METRICS), "encode_and_search_seconds": round(base_s, 1),
            "seconds": round(time.time() - t0, 1)}
    write_json_atomic(out_dir / "metrics.json", metrics)
    write_json_atomic(out_dir / "metrics_by_group.json", by_group)
    write_json_atomic(out_dir / "comparison.json", comparison)
    write_json_atomic(out_dir / "eval.json", info)
    extra: dict[str, Any] = {"groups": groups, "training": training_record(
        model, {a: t["rows"] for a, t in training.items()}, info["options"]), "data_sha256": data_sha256(sets)}
    if kept_unseen is not None:
        extra["unseen"] = kept_unseen
    write_json_atomic(out_dir / PER_QUERY, per_query_record(str(beir_dir), split, test_qids, seeds, arms, **extra))
    return {"metrics": metrics, "groups": by_group, "comparison": comparison, "info": info}
