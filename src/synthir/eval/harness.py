"""`synthir eval`: base vs fine-tuned retrieval quality on a BEIR dir.

Output in EVAL_DIR: metrics.json {"base": {"ndcg@10", "recall@100", "mrr@10"}, "tuned": {...}},
metrics_by_group.json (the same for mono / cross-lingual queries and per query language),
eval.json (options, sizes, training stats, seconds), model/ (the fine-tuned model).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from synthir.errors import ConfigError, InputError
from synthir.eval.retrieval import METRICS, query_groups, retrieve, score
from synthir.eval.train import TrainOptions, finetune, training_rows
from synthir.io.beir import read_beir
from synthir.io.files import write_json_atomic


def _load_model(name: str) -> Any:
    from sentence_transformers import SentenceTransformer

    from synthir.embed.st import model_source

    return SentenceTransformer(model_source(name), device="cpu")


def _qrels_split(data: Any, wanted: str | None, beir_dir: Path) -> str:
    if wanted:
        if wanted not in data.qrels:
            raise InputError(f"{beir_dir}: no qrels/{wanted}.tsv (have {sorted(data.qrels)})")
        return wanted
    for split in ("test", "dev", "validation", "train"):
        if split in data.qrels:
            return split
    raise InputError(f"{beir_dir}: no qrels/*.tsv")


def run_eval(dataset_dir: Path, beir_dir: Path, out_dir: Path, model: str = "minilm",
             opts: TrainOptions | None = None, qrels_split: str | None = None, k: int = 100,
             query_prefix: str = "", passage_prefix: str = "") -> dict[str, Any]:
    """Evaluate `model` on `beir_dir`, fine-tune it on `dataset_dir`, evaluate again; write the
    files of the module doc and return {"metrics", "groups", "info"}."""
    opts = opts or TrainOptions()
    try:
        import ir_measures  # noqa: F401
    except ImportError:
        raise ConfigError("synthir eval needs the [eval] extra: pip install 'synthir[eval]'") from None
    t0 = time.time()
    rows, config = training_rows(Path(dataset_dir), opts)  # fail before any encoding
    data = read_beir(beir_dir)
    split = _qrels_split(data, qrels_split, beir_dir)
    groups = query_groups(data, split, data.query_langs)
    if not groups["all"]:
        raise InputError(f"{beir_dir}: no judged query of qrels/{split}.tsv is in queries.jsonl")
    out_dir.mkdir(parents=True, exist_ok=True)
    st = _load_model(model)
    kw = {"k": k, "query_prefix": query_prefix, "passage_prefix": passage_prefix}
    results: dict[str, dict[str, dict[str, float]]] = {}
    t_base = time.time()
    run = retrieve(st, data, split, **kw)
    results["base"] = {g: score(run, data, split, q) for g, q in groups.items()}
    base_s = time.time() - t_base
    train = finetune(st, rows, out_dir, opts)
    run = retrieve(st, data, split, **kw)
    results["tuned"] = {g: score(run, data, split, q) for g, q in groups.items()}
    metrics = {side: results[side]["all"] for side in ("base", "tuned")}
    by_group = {g: {side: results[side][g] for side in ("base", "tuned")} for g in groups}
    info = {"dataset": str(dataset_dir), "beir": str(beir_dir), "qrels_split": split, "model": model,
            "train_config": config, "train_rows": len(rows), "train": train,
            "options": vars(opts), "corpus": len(data.corpus),
            "queries": {g: len(q) for g, q in groups.items()}, "metrics": list(METRICS),
            "encode_and_search_seconds": round(base_s, 1), "seconds": round(time.time() - t0, 1)}
    write_json_atomic(out_dir / "metrics.json", metrics)
    write_json_atomic(out_dir / "metrics_by_group.json", by_group)
    write_json_atomic(out_dir / "eval.json", info)
    return {"metrics": metrics, "groups": by_group, "info": info}


def table(result: dict[str, Any]) -> str:
    """Base vs fine-tuned, per query group, as a text table."""
    names = list(METRICS)
    lines = [f"{'queries':<12} {'n':>5}  {'model':<6} " + " ".join(f"{n:>10}" for n in names)]
    for group, sides in result["groups"].items():
        n = result["info"]["queries"][group]
        for side in ("base", "tuned"):
            lines.append(f"{group:<12} {n:>5}  {side:<6} " + " ".join(f"{sides[side][m]:>10.4f}" for m in names))
        lines.append(f"{'':<12} {'':>5}  {'delta':<6} "
                     + " ".join(f"{sides['tuned'][m] - sides['base'][m]:>+10.4f}" for m in names))
    info = result["info"]
    lines.append(f"trained on {info['train_rows']} `{info['train_config']}` rows: {info['train']['steps']} "
                 f"steps, loss {info['train']['loss']}; corpus {info['corpus']} documents")
    return "\n".join(lines)
