"""Freeze the bottom of a transformer encoder while a student fine-tunes (`TrainOptions.freeze_layers`).

Input: a sentence-transformers Transformer module (`model[0]`) whose `auto_model` is a BERT-style
encoder (`embeddings` + `encoder.layer`: MiniLM's BertModel, e5-small's XLMRobertaModel) and N.
Effect, inside the `frozen_bottom` context: the token / position embeddings and the first N
transformer layers take no gradient (`requires_grad` False), so the optimizer leaves them as
they are and backward stops at layer N. On leaving, every parameter gets back the flag it had.

Why: on dev sets whose base already ranks most questions first (set 2, 0.89-0.91), fine-tuning
loses some of base's hits (docs/results.md §8az, §8bl); keeping the lower layers of a
pre-trained encoder fixed is the usual way to keep what it knows while the top adapts (Lee et
al., 2019, "What would Elsa do? Freezing layers during transformer fine-tuning",
arXiv:1911.03090). It also skips the backward pass and the AdamW update of the frozen part (for
e5-small the 96M-parameter word embeddings are most of the model). Measured (docs/results.md
§8bo, e5-small, N = 6): steps 1.9x faster on 2 CPU cores, but the students did not keep base's
hits and lost where there was most to learn (program FAQs -0.026 nDCG@10), so the default is 0.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from synthir.errors import ConfigError


def encoder_parts(module: Any) -> tuple[Any, list[Any]]:
    """(embeddings, transformer layers) of `module` (a sentence-transformers Transformer, or a
    Hugging Face encoder itself). ConfigError (one line) when it is not BERT-shaped."""
    auto = getattr(module, "auto_model", module)
    embeddings = getattr(auto, "embeddings", None)
    layers = getattr(getattr(auto, "encoder", None), "layer", None)
    if embeddings is None or layers is None:
        raise ConfigError(f"--freeze-layers: {type(auto).__name__} has no embeddings + encoder.layer "
                          "(a BERT-style encoder) to freeze; use --freeze-layers 0")
    return embeddings, list(layers)


def frozen_copy(model: Any) -> Any:
    """A copy of `model` as it is now, in eval mode (no dropout) and taking no gradient: the
    guide a loss compares the student with (GIST's guide, the anchor's base, eval/anchor.py) and
    the fixed document tower of query-side training (eval/query_side.py)."""
    import copy

    guide = copy.deepcopy(model)
    guide.eval()
    for param in guide.parameters():
        param.requires_grad_(False)
    return guide


def check_count(layers: int) -> None:
    """ConfigError (one line) for a negative count (TrainOptions.check and check_freeze)."""
    if layers < 0:
        raise ConfigError(f"--freeze-layers must be >= 0 (got {layers}; 0: train every layer)")


def check_freeze(module: Any, layers: int) -> tuple[Any, list[Any]]:
    """ConfigError (one line) when `layers` cannot be frozen in `module`: negative, a model that is
    not BERT-shaped, or no layer left to train; else its (embeddings, layers). `run_eval` calls it
    on the base model before any encoding, so a bad count costs no work."""
    check_count(layers)
    if layers == 0:
        return None, []
    embeddings, blocks = encoder_parts(module)
    if layers >= len(blocks):
        raise ConfigError(f"--freeze-layers {layers}: the model has {len(blocks)} layers; "
                          f"at most {len(blocks) - 1} can be frozen")
    return embeddings, blocks


@contextmanager
def frozen_bottom(module: Any, layers: int) -> Iterator[int]:
    """Freeze `module`'s embeddings and its first `layers` transformer layers for the duration;
    yields the number of parameters frozen (0 and no change when `layers` is 0). ConfigError
    when `layers` is negative or leaves no layer to train."""
    if layers == 0:
        yield 0
        return
    embeddings, blocks = check_freeze(module, layers)
    params = [p for part in [embeddings, *blocks[:layers]] for p in part.parameters()]
    before = [p.requires_grad for p in params]
    for p in params:
        p.requires_grad_(False)
    try:
        yield sum(p.numel() for p in params)
    finally:
        for p, flag in zip(params, before):
            p.requires_grad_(flag)
