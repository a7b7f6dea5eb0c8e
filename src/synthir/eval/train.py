"""Fine-tune a sentence-transformers model on a published synthir dataset.

Training rows come from the `triplets` config (anchor, positive, negative) when it is
published, else from `pairs` (query -> anchor, positive). Loss: MultipleNegativesRankingLoss
(in-batch negatives plus the hard negative), batches without duplicate texts (several queries
can share one positive, which would otherwise be a false in-batch negative).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from synthir.errors import InputError


@dataclass
class TrainOptions:
    """Fine-tuning settings (CLI flags of `synthir eval`)."""

    config: str = "auto"  # triplets | pairs | auto (triplets when published)
    split: str = "train"
    epochs: float = 1.0
    max_steps: int = -1
    batch_size: int = 32
    learning_rate: float = 2e-5
    warmup_ratio: float = 0.1
    seed: int = 0


def training_rows(dataset_dir: Path, opts: TrainOptions) -> tuple[Any, str]:
    """(datasets.Dataset with columns anchor, positive[, negative], config used)."""
    from datasets import load_dataset

    readme = dataset_dir / "README.md"
    if not readme.is_file():
        raise InputError(f"{dataset_dir} is not a published synthir dataset (no README.md)")
    card = readme.read_text(encoding="utf-8")
    published = {c for c in ("triplets", "pairs") if f"config_name: {c}\n" in card}
    config = opts.config if opts.config != "auto" else ("triplets" if "triplets" in published else "pairs")
    if config not in published:
        raise InputError(f"{dataset_dir} has no `{config}` config to train on (published: "
                         f"{', '.join(sorted(published)) or 'none'})")
    ds = load_dataset(str(dataset_dir), config, split=opts.split)
    if config == "pairs":
        ds = ds.select_columns(["query", "positive"]).rename_column("query", "anchor")
    if len(ds) == 0:
        raise InputError(f"{dataset_dir}: the `{config}` {opts.split} split has no rows")
    return ds, config


def finetune(model: Any, rows: Any, out_dir: Path, opts: TrainOptions) -> dict[str, Any]:
    """Train `model` (a SentenceTransformer, changed in place) on `rows`; save it to
    `out_dir`. Returns {steps, loss, seconds}."""
    import time

    from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss
    from sentence_transformers.sentence_transformer.training_args import BatchSamplers

    import math

    batch = min(opts.batch_size, len(rows))
    total = opts.max_steps if opts.max_steps > 0 else math.ceil(math.ceil(len(rows) / batch) * opts.epochs)
    args = SentenceTransformerTrainingArguments(
        output_dir=str(out_dir / "checkpoints"), num_train_epochs=opts.epochs, max_steps=opts.max_steps,
        per_device_train_batch_size=batch, learning_rate=opts.learning_rate,
        # floor, not HF's ceil: a 1-step run must not spend its only step at learning rate 0
        warmup_steps=int(opts.warmup_ratio * total), seed=opts.seed, data_seed=opts.seed, use_cpu=True,
        report_to="none", save_strategy="no", logging_steps=10, disable_tqdm=True,
        batch_sampler=BatchSamplers.NO_DUPLICATES)
    t0 = time.time()
    trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=rows,
                                         loss=MultipleNegativesRankingLoss(model))
    out = trainer.train()
    model.save(str(out_dir / "model"))
    return {"steps": out.global_step, "loss": round(out.training_loss, 4), "seconds": round(time.time() - t0, 1)}
