"""Training forwards in length-sorted chunks: the same embeddings for less padding.

A training batch is padded to its longest text. On set 2's Spanish pairs (passages 157 tokens on
average, 22% at the 256-token cap) a batch of 32 holds 1.63x the passage tokens it needs, and on a
CPU the padding is paid in full: every dense layer runs over it. `length_chunked(module, rows)`
makes the sentence-transformers `Transformer` module (a SentenceTransformer's first module) run
each padded batch as chunks of `rows` texts sorted by length, each cut to its own longest text,
and puts the token embeddings back in the batch's order and width (padding past a chunk's width
is zeros; pooling reads only the positions the attention mask keeps, so it sees the same tokens).
With dropout off the sentence embeddings equal one padded forward's up to float rounding (a test
checks it); in training the dropout masks are drawn for other shapes, so a run is an equivalent draw, not the
same numbers (docs/results.md §8bn measures the students and the time).

It is the idea of length-grouped batching (Hugging Face's `group_by_length`) moved inside the
batch: the batches, and so MNRL's in-batch negatives, stay exactly as the sampler drew them.
sentence-transformers' own unpadding needs flash attention (a GPU); GradCache's mini-batches
(`--mini-batch-size`) cut each to its own width but keep the batch's order, so a long text still
pads the texts beside it.

Falls back to one padded forward for a batch of at most `rows` texts, for inputs that are not
right-padded token ids (left padding would shift absolute positions when cut), and for features
it does not know how to cut (a tensor that is neither [batch] nor [batch, width]).

Inputs: a `Transformer`-like module whose `forward(features)` reads `input_ids` /
`attention_mask` ([batch, width]) and writes `features[module.module_output_name]`
([batch, width, dim]). Output: a context manager; on exit the module's own forward is back.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def right_padded(mask: Any) -> bool:
    """Whether every row of a [batch, width] 0/1 attention mask is ones then zeros."""
    import torch

    lengths = mask.sum(dim=1, keepdim=True)
    return bool(torch.equal(mask.bool(), torch.arange(mask.shape[1], device=mask.device) < lengths))


def _cuttable(features: dict[str, Any], batch: int, width: int) -> bool:
    import torch

    for value in features.values():
        if torch.is_tensor(value) and value.shape[:1] != (batch,) and value.dim() > 0:
            return False
        if torch.is_tensor(value) and value.dim() > 2:
            return False
        if torch.is_tensor(value) and value.dim() == 2 and value.shape[1] != width:
            return False
    return True


def _cut(features: dict[str, Any], rows: Any, width: int) -> dict[str, Any]:
    """`features` for the batch rows `rows` (a LongTensor), [batch, W] tensors cut to `width`."""
    import torch

    out = {}
    for key, value in features.items():
        if torch.is_tensor(value) and value.dim() == 2:
            out[key] = value[rows, :width]
        elif torch.is_tensor(value) and value.dim() == 1:
            out[key] = value[rows]
        else:
            out[key] = value
    return out


def chunked_forward(module: Any, features: dict[str, Any], rows: int, **kwargs: Any) -> dict[str, Any]:
    """`module`'s forward over `features` in length-sorted chunks of `rows` texts (see the module
    docstring); the class's own forward where chunking does not apply."""
    import torch
    import torch.nn.functional as F

    plain = type(module).forward  # the class's forward: safe in a deepcopy of `module` too
    mask = features.get("attention_mask")
    if (mask is None or "input_ids" not in features or mask.dim() != 2 or mask.shape[0] <= rows
            or not right_padded(mask) or not _cuttable(features, *mask.shape)):
        return plain(module, features, **kwargs)
    batch, width = mask.shape
    lengths = mask.sum(dim=1)
    order = torch.argsort(lengths, descending=True, stable=True)
    name = getattr(module, "module_output_name", "token_embeddings")
    parts = []
    for chunk in order.split(rows):
        cut = int(lengths[chunk].max())
        tokens = plain(module, _cut(features, chunk, cut), **kwargs)[name]
        parts.append(F.pad(tokens, (0, 0, 0, width - tokens.shape[1])))
    back = torch.empty_like(order)
    back[order] = torch.arange(batch, device=order.device)
    features[name] = torch.cat(parts)[back]
    return features


@contextmanager
def length_chunked(module: Any, rows: int) -> Iterator[None]:
    """Within the block, `module(features)` runs as `chunked_forward(module, features, rows)`;
    rows <= 0 leaves it as it is. The instance attribute is removed on exit, so the class's
    forward is back even if the block raises."""
    if rows <= 0:
        yield
        return
    import types

    def forward(self: Any, features: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return chunked_forward(self, features, rows, **kwargs)

    module.forward = types.MethodType(forward, module)
    try:
        yield
    finally:
        module.__dict__.pop("forward", None)
