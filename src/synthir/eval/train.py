"""Fine-tune a sentence-transformers model on a published synthir dataset (the rows it trains on:
eval/train_data.py).

Losses (`TrainOptions.loss`):
- `mnrl`: MultipleNegativesRankingLoss (in-batch negatives plus the hard negative) on the
  `triplets` config (anchor, positive, negative) when it is published, else on `pairs`
  (query -> anchor, positive);
- `marginmse`: MarginMSELoss (Hofstätter et al., 2020, arXiv:2010.02666) on the `distill`
  config (query, positive, negative, label = teacher(q, pos) - teacher(q, neg));
- `mnrl+marginmse`: both in one trainer (a dict of datasets and losses; batches drawn from
  each dataset in proportion to its size);
- `gist`: GISTEmbedLoss (Solatorio, 2024, arXiv:2402.16829) on the same rows as `mnrl`: MNRL
  whose in-batch negatives are masked when a guide model scores them above the pair's own
  positive (likely false negatives: near-identical pages, or a synthetic query that fits another
  passage better than its source). The guide is a frozen copy of the student as it was before
  training; its temperature is 1 / the MNRL scale.
Batches hold no duplicate texts (several queries can share one positive, which would
otherwise be a false in-batch negative). `TrainOptions.batching`: `random` (sentence-transformers'
no-duplicates sampler) or `topic` (eval/batching.py: each batch from one k-means cluster of the
queries, TAS, Hofstätter et al., 2021).
`TrainOptions.mini_batch_size` > 0 (and below the batch size): `mnrl` and `gist` become their
cached forms (GradCache, Gao et al., 2021, arXiv:2101.06983: `CachedMultipleNegativesRankingLoss`,
`CachedGISTEmbedLoss`), the same loss and gradients over the whole batch with activations held
for one mini-batch at a time, so a large batch of in-batch negatives fits in memory.
`TrainOptions.precision`: `fp32`, or `bf16` mixed precision (the trainer's autocast; on a CPU
only where it has native bf16, AVX512-BF16 or AMX: 1.4-1.6x faster e5-small steps on 2 cores,
docs/results.md §8bb; on a GPU only where torch reports bf16 support), or `auto`: bf16 where
the device has it, else fp32 (`for_student` resolves it, so eval.json records the precision
used). `TrainOptions.chunk_rows` (default: 8 on a CPU, off on a GPU): each training forward
runs in length-sorted chunks of that many texts, each cut to its own longest, instead of one
batch padded to its longest text (eval/length_chunks.py; the batches and the loss unchanged;
1.32-1.51x faster e5-small steps on 2 cores, docs/results.md §8bn); `finetune` reports the
number it used. `TrainOptions.freeze_layers` N > 0: the embeddings and the first N transformer
layers keep the base's weights (eval/freeze.py; 1.9x faster e5-small steps with N = 6, worse
students, docs/results.md §8bo). `TrainOptions.anchor` w > 0 (mnrl only): the loss adds w times
the batch texts' mean cosine distance from a frozen copy of the base (eval/anchor.py; not the
default, docs/results.md §8bq). `TrainOptions.query_side` (mnrl only): only the query encoder
trains, passages keep the base's embeddings (eval/query_side.py; the model passed in must be
`query_side.asymmetric`'s two-tower model). Evaluation always encodes in fp32: the trainer (accelerate)
wraps the model's forward in its bf16 autocast and leaves the wrapper on after training, so
`finetune` takes it off (`unwrap_model(..., keep_fp32_wrapper=False)`); before 2026-12-06 a
bf16-trained student was scored in autocast, up to 8e-4 from the saved model's fp32 embeddings
(docs/results.md §8be).
"""

from __future__ import annotations

import math
import time
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from synthir.errors import ConfigError
from synthir.eval.batching import BATCHINGS
from synthir.eval.freeze import check_count, frozen_bottom, frozen_copy
from synthir.eval.length_chunks import length_chunked
from synthir.eval.query_side import ROUTES, router_of, transformer_modules

LOSSES = ("mnrl", "marginmse", "mnrl+marginmse", "gist")
PAIR_LOSSES = ("mnrl", "gist")  # train on the MNRL rows (pairs / triplets) and need the MNRL scale


@dataclass
class TrainOptions:
    """Fine-tuning recipe (CLI flags of `synthir eval`); `check()` validates it. Learning rate
    and MNRL scale left at None are the student's (`synthir.embed.st.default_training`: e5-small
    2e-5 and 100, others 1e-4 and 20); `for_student(model)` fills them, and `run_eval` does so
    for its model, so the CLI and in-process callers get the same recipe."""

    config: str = "pairs"  # pairs | triplets | auto (triplets when published); the mnrl rows (§8f: pairs won)
    split: str = "train"
    loss: str = "mnrl"  # mnrl | marginmse | mnrl+marginmse | gist
    epochs: float = 3.0  # 3 epochs at lr 1e-4: the best of benchmarks/eval_sweep.py (docs/results.md §8f)
    max_steps: int = -1  # > 0 overrides epochs
    batch_size: int = 32
    mini_batch_size: int = 0  # > 0: GradCache forms of mnrl / gist, this many rows per forward (memory)
    learning_rate: float | None = None  # None: the student's (1e-4 MiniLM, the sweep of §8f; 2e-5 e5-small)
    warmup_ratio: float = 0.1
    seed: int = 0
    query_prefix: str = ""  # prepended to queries / documents in training, as in retrieval (e5)
    passage_prefix: str = ""
    max_seq_length: int | None = 256  # tokens kept per text (all arms, base included); None: the model's
    mnrl_scale: float | None = None  # MNRL's similarity scale = 1 / temperature; None: the student's (20 / 100)
    batching: str = "random"  # random | topic (eval/batching.py)
    # > 0: train on a fixed seeded sample of at most this many rows of each training set (a
    # learning curve, or a control for the number of pairs); 0: every row
    max_rows: int = 0
    device: str = "auto"  # where the students are encoded and trained: auto (cuda when torch sees one) | cpu | cuda
    precision: str = "fp32"  # fp32 | bf16 (mixed-precision training; check_precision) | auto (resolve_precision)
    # > 0: each training forward runs in length-sorted chunks of this many texts, each cut to its
    # own longest (eval/length_chunks.py: the same batches and loss, less padding; §8bn); 0: one
    # padded forward per column, as sentence-transformers does; None: 8 on a CPU, 0 on a GPU
    chunk_rows: int | None = None
    # > 0: the embeddings and the first N transformer layers stay as the base has them
    # (eval/freeze.py); 0: every weight trains
    freeze_layers: int = 0
    # > 0: mnrl pays this weight times the batch texts' mean 1 - cos(student, frozen base) (eval/anchor.py)
    anchor: float = 0.0
    # True: train the query tower only; passages keep the base's embeddings (eval/query_side.py)
    query_side: bool = False

    def for_student(self, model: str | None) -> TrainOptions:
        """This recipe with unset learning rate / MNRL scale taken from `model`'s defaults, and
        precision `auto` resolved for this machine (resolve_precision)."""
        from synthir.embed.st import default_training

        student = default_training(model)
        precision = self.precision
        if precision == "auto":
            precision = resolve_precision(precision, resolve_device(self.device))
        return replace(self, learning_rate=student["learning_rate"] if self.learning_rate is None
                       else self.learning_rate,
                       mnrl_scale=student["mnrl_scale"] if self.mnrl_scale is None else self.mnrl_scale,
                       precision=precision)

    @property
    def loss_parts(self) -> list[str]:
        """The losses `loss` combines, e.g. ["mnrl", "marginmse"] for `mnrl+marginmse`."""
        return self.loss.split("+")

    def check(self) -> None:
        """Raise ConfigError (one line, naming the flag) for a recipe that cannot train."""
        if self.loss not in LOSSES:
            raise ConfigError(f"--loss must be one of {', '.join(LOSSES)} (got {self.loss!r})")
        if self.config not in ("auto", "triplets", "pairs"):
            raise ConfigError(f"--config must be auto, triplets or pairs (got {self.config!r})")
        if self.epochs <= 0 and self.max_steps <= 0:
            raise ConfigError(f"--epochs must be > 0 (got {self.epochs}) unless --max-steps is set")
        if self.batch_size < 1:
            raise ConfigError(f"--batch-size must be >= 1 (got {self.batch_size})")
        if self.mini_batch_size < 0:
            raise ConfigError(f"--mini-batch-size must be >= 0 (got {self.mini_batch_size}; 0: no caching)")
        if self.mini_batch_size and self.loss == "marginmse":
            raise ConfigError("--mini-batch-size caches the in-batch losses (mnrl, gist, mnrl+marginmse's "
                              "mnrl); --loss marginmse has none")
        if self.learning_rate is not None and not self.learning_rate > 0:
            raise ConfigError(f"--lr must be > 0 (got {self.learning_rate})")
        if self.max_seq_length is not None and self.max_seq_length < 8:
            raise ConfigError(f"--max-seq-length must be >= 8 (got {self.max_seq_length})")
        if self.mnrl_scale is not None and not self.mnrl_scale > 0:
            raise ConfigError(f"--mnrl-scale must be > 0 (got {self.mnrl_scale})")
        if self.batching not in BATCHINGS:
            raise ConfigError(f"--batching must be one of {', '.join(BATCHINGS)} (got {self.batching!r})")
        if not 0.0 <= self.warmup_ratio < 1.0:
            raise ConfigError(f"--warmup-ratio must be in [0, 1) (got {self.warmup_ratio})")
        if self.max_rows < 0:
            raise ConfigError(f"--max-train-rows must be >= 0 (got {self.max_rows}; 0: every row)")
        if self.chunk_rows is not None and self.chunk_rows < 0:
            raise ConfigError(f"--chunk-rows must be >= 0 (got {self.chunk_rows}; 0: no chunks)")
        check_count(self.freeze_layers)
        if not self.anchor >= 0:
            raise ConfigError(f"--anchor must be >= 0 (got {self.anchor}; 0: no anchor)")
        if self.anchor and (self.loss != "mnrl" or self.mini_batch_size):
            raise ConfigError("--anchor adds to the plain mnrl loss: use --loss mnrl without --mini-batch-size")
        if self.query_side and (self.loss != "mnrl" or self.mini_batch_size or self.anchor or self.freeze_layers):
            raise ConfigError("--query-side trains the plain mnrl loss: use --loss mnrl without --mini-batch-size, "
                              "--anchor or --freeze-layers")
        device = resolve_device(self.device)
        check_precision(resolve_precision(self.precision, device), device)


DEVICES = ("auto", "cpu", "cuda")


def resolve_device(device: str) -> str:
    """The torch device `--device` names: auto is cuda when torch sees a CUDA device, else cpu.
    ConfigError (one line) for another name, or cuda on a machine where torch sees none."""
    if device not in DEVICES:
        raise ConfigError(f"--device must be one of {', '.join(DEVICES)} (got {device!r})")
    if device == "cpu":
        return "cpu"
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if device == "cuda":
        raise ConfigError(f"--device cuda: torch {torch.__version__} sees no CUDA device here "
                          "(a CPU build, or no GPU); use --device cpu or auto")
    return "cpu"


PRECISIONS = ("fp32", "bf16")  # what a run trains in; `auto` picks one of them (resolve_precision)


def native_bf16_cpu() -> bool:
    """Whether this CPU computes bf16 natively (AVX512-BF16 or AMX tiles), as torch reports it."""
    import torch

    probes = [getattr(torch.cpu, name, None) for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported")]
    return any(probe() for probe in probes if probe is not None)


def native_bf16(device: str) -> bool:
    """Whether `device` (cpu | cuda, as resolve_device names it) computes bf16 natively."""
    if device == "cuda":
        import torch

        return bool(torch.cuda.is_bf16_supported())
    return native_bf16_cpu()


def resolve_precision(precision: str, device: str) -> str:
    """`auto` -> bf16 where `device` computes bf16 natively, else fp32; any other value as given
    (check_precision judges it)."""
    if precision != "auto":
        return precision
    return "bf16" if native_bf16(device) else "fp32"


def check_precision(precision: str, device: str) -> None:
    """ConfigError (one line) for a precision that is not one of PRECISIONS, or bf16 on a device
    that would emulate it (slower than fp32, not faster): a CPU without AVX512-BF16 / AMX, or a
    GPU without bf16."""
    if precision not in PRECISIONS:
        raise ConfigError(f"--precision must be one of {', '.join(PRECISIONS)} or auto (got {precision!r})")
    if precision == "bf16" and not native_bf16(device):
        what = "GPU has no bf16" if device == "cuda" else "CPU has no native bf16 (AVX512-BF16 or AMX)"
        raise ConfigError(f"--precision bf16: this {what}, so bf16 training would be slower than fp32 "
                          "(or fail); use --precision fp32 or auto")


CPU_CHUNK_ROWS = 8  # e5-small steps 1.32-1.51x faster than one padded forward on 2 cores (§8bn; 4, 16: slower than 8)


def chunk_rows(opts: TrainOptions) -> int:
    """Texts per length-sorted chunk of a training forward: `opts.chunk_rows`, or when unset
    CPU_CHUNK_ROWS on a CPU (every padded token is computed there) and 0 (one forward) on a GPU,
    where it was not measured and small chunks may cost more in kernel launches than they save."""
    if opts.chunk_rows is not None:
        return opts.chunk_rows
    return CPU_CHUNK_ROWS if resolve_device(opts.device) == "cpu" else 0


def _loss(name: str, model: Any, opts: TrainOptions) -> Any:
    """The sentence-transformers loss `name` for `model`; `gist` freezes a copy of `model` as it is
    now (before training) as the guide. With `opts.mini_batch_size` below the batch size, mnrl and
    gist are their GradCache forms (same loss, activations for one mini-batch at a time)."""
    from sentence_transformers.sentence_transformer.losses import (CachedGISTEmbedLoss,
                                                                   CachedMultipleNegativesRankingLoss,
                                                                   GISTEmbedLoss, MarginMSELoss,
                                                                   MultipleNegativesRankingLoss)

    cached = 0 < opts.mini_batch_size < opts.batch_size
    if name == "mnrl":
        if cached:
            return CachedMultipleNegativesRankingLoss(model, scale=opts.mnrl_scale,
                                                      mini_batch_size=opts.mini_batch_size)
        mnrl = MultipleNegativesRankingLoss(model, scale=opts.mnrl_scale)
        if opts.anchor:
            from synthir.eval.anchor import AnchoredMNRL

            return AnchoredMNRL(model, mnrl, opts.anchor)
        return mnrl
    if name == "gist":
        guide = frozen_copy(model)
        if opts.mnrl_scale is None:
            raise ValueError("the gist loss needs opts.mnrl_scale (its temperature is 1 / the scale)")
        if cached:
            return CachedGISTEmbedLoss(model, guide, temperature=1.0 / opts.mnrl_scale,
                                       mini_batch_size=opts.mini_batch_size)
        return GISTEmbedLoss(model, guide, temperature=1.0 / opts.mnrl_scale)
    return MarginMSELoss(model)


def _guides(loss: Any) -> list[Any]:
    """The first module of each frozen guide model among `loss` (one loss or {name: loss}): GIST's
    guide, or the anchor's copy of the base (eval/anchor.py)."""
    losses = loss.values() if isinstance(loss, dict) else [loss]
    return [one.guide[0] for one in losses if getattr(one, "guide", None) is not None]


def _prompts(opts: TrainOptions) -> dict[str, str] | None:
    """The trainer's per-column prompts: the retrieval prefixes, so the student trains on the
    same text it is evaluated on (None without prefixes)."""
    if not (opts.query_prefix or opts.passage_prefix):
        return None
    q, p = opts.query_prefix, opts.passage_prefix
    return {"anchor": q, "query": q, "positive": p, "negative": p}


def _sampler(model: Any, opts: TrainOptions) -> Any:
    """The trainer's batch sampler: no-duplicates (random order) or topic batches whose clusters
    come from `model` as it is now (before training), queries prefixed as in retrieval."""
    from sentence_transformers.sentence_transformer.training_args import BatchSamplers

    if opts.batching == "random":
        return BatchSamplers.NO_DUPLICATES
    from synthir.eval.batching import topic_sampler

    def encode(texts: list[str]) -> Any:
        return model.encode([opts.query_prefix + t for t in texts], batch_size=64, task="query",
                            normalize_embeddings=True, convert_to_numpy=True)

    return topic_sampler(encode, opts.seed)


def finetune(model: Any, sets: dict[str, Any], work_dir: Path, opts: TrainOptions,
             save_to: Path | None = None) -> dict[str, Any]:
    """Train `model` (a SentenceTransformer, changed in place).

    Inputs: `sets` {loss name ("mnrl" | "gist" | "marginmse"): datasets.Dataset}; `work_dir` for the
    trainer's scratch files; `opts` (recipe and seed); `save_to`: where to save the model
    (None: not saved).
    Output: {"steps", "loss" (mean training loss), "seconds", "chunk_rows" (texts per chunk of
    each forward, 0: one padded forward; chunk_rows(opts)), "frozen_params" (parameters left as
    they were: opts.freeze_layers, eval/freeze.py), and with opts.anchor "anchor_drift" (the
    batches' mean 1 - cos from the base over the run, eval/anchor.py)}."""
    from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments

    if not sets:
        raise ValueError("finetune needs at least one dataset")
    if opts.learning_rate is None or (opts.mnrl_scale is None and set(PAIR_LOSSES) & set(sets)):
        raise ValueError("finetune needs a complete recipe: TrainOptions.for_student(model) sets lr and scale")
    if opts.query_side != (router_of(model) is not None):
        raise ValueError("query_side trains query_side.asymmetric(model), and only it: build the two towers first")
    batch = min(opts.batch_size, min(len(rows) for rows in sets.values()))
    batches = sum(math.ceil(len(rows) / batch) for rows in sets.values())
    total = opts.max_steps if opts.max_steps > 0 else math.ceil(batches * opts.epochs)
    args = SentenceTransformerTrainingArguments(
        output_dir=str(work_dir / "checkpoints"), num_train_epochs=opts.epochs, max_steps=opts.max_steps,
        per_device_train_batch_size=batch, learning_rate=opts.learning_rate,
        # floor, not HF's ceil: a 1-step run must not spend its only step at learning rate 0
        warmup_steps=int(opts.warmup_ratio * total), seed=opts.seed, data_seed=opts.seed,
        use_cpu=resolve_device(opts.device) == "cpu", bf16=opts.precision == "bf16",
        report_to="none", save_strategy="no", logging_steps=10, disable_tqdm=True,
        batch_sampler=_sampler(model, opts), prompts=_prompts(opts),
        router_mapping=ROUTES if opts.query_side else {})
    if len(sets) == 1:  # one dataset, one loss: exactly the single-dataset trainer
        [(name, rows)] = sets.items()
        data, loss = rows, _loss(name, model, opts)
    else:
        data, loss = dict(sets), {name: _loss(name, model, opts) for name in sets}
    t0 = time.time()
    trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=data, loss=loss)
    rows_per_chunk = chunk_rows(opts)
    # frozen before the trainer's optimizer exists; a guide (gist's or the anchor's: a frozen copy,
    # no dropout) runs in the same chunks, which give its padded forward's embeddings
    # (tests/unit/eval/test_length_chunks.py)
    with ExitStack() as stack:
        frozen = stack.enter_context(frozen_bottom(model[0], opts.freeze_layers))
        for module in [*transformer_modules(model), *_guides(loss)]:
            stack.enter_context(length_chunked(module, rows_per_chunk))
        out = trainer.train()
    # bf16: accelerate left `model.forward` wrapped in its autocast; scored as saved, in fp32
    trainer.accelerator.unwrap_model(trainer.model, keep_fp32_wrapper=False)
    if save_to is not None:
        model.save(str(save_to))
    stats = {"steps": out.global_step, "loss": round(out.training_loss, 4), "seconds": round(time.time() - t0, 1),
             "chunk_rows": rows_per_chunk, "frozen_params": frozen}
    if hasattr(loss, "mean_drift"):  # --anchor: how far from the base the batches' embeddings were, on average
        stats["anchor_drift"] = round(loss.mean_drift, 5)
    return stats
