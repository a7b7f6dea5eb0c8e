"""Topic-aware batches for in-batch-negative losses (`synthir eval --batching topic`).

Follows the topic-aware sampling (TAS) of Hofstätter et al., 2021, "Efficiently Teaching an
Effective Dense Retriever with Balanced Topic Aware Sampling" (SIGIR, arXiv:2104.06967): the
training queries are clustered by k-means on the base model's embeddings, and each batch is
drawn from one cluster, so a query's in-batch negatives are the positives of queries on the same
topic (a sibling page of the same program) instead of random pages that are easy to tell apart.
The balanced part of TAS-B (binning by teacher margin) is not done here.

Inputs: the training rows (a `datasets.Dataset` whose first column holds the queries) and the
student before training. Output: a sentence-transformers batch sampler yielding index lists.
Batches still hold no duplicate texts (several queries share one positive; a shared positive
would be a false in-batch negative): a row that would repeat a text waits for the next batch.
A cluster smaller than the batch is followed, in the same batch, by the next cluster in a
shuffled order; the order of clusters and of rows in them is reshuffled each epoch (seed + epoch).
"""

from __future__ import annotations

import math
import random
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from typing import Any

BATCHINGS = ("random", "topic")
ROWS_PER_CLUSTER = 2  # k = ceil(rows / (2 x batch)): a cluster is about two batches of queries


def num_clusters(rows: int, batch_size: int) -> int:
    """k for `rows` training rows: about two batches of rows per cluster, at least 1."""
    return max(1, math.ceil(rows / (ROWS_PER_CLUSTER * max(1, batch_size))))


def cluster(embeddings: Any, k: int, seed: int) -> list[int]:
    """Cluster ids (0..k-1) of each row of `embeddings` (float32 array, n x d) by FAISS k-means
    (spherical: the embeddings are normalised), seeded."""
    import faiss
    import numpy as np

    x = np.ascontiguousarray(embeddings, dtype="float32")
    k = max(1, min(k, len(x)))
    if k == 1:
        return [0] * len(x)
    km = faiss.Kmeans(x.shape[1], k, niter=25, seed=seed, spherical=True, verbose=False,
                      min_points_per_centroid=1)
    km.train(x)
    _, ids = km.index.search(x, 1)
    return [int(i) for i in ids[:, 0]]


def topic_batches(clusters: Sequence[int], texts: Sequence[frozenset[str]], batch_size: int,
                  rng: random.Random) -> list[list[int]]:
    """One epoch of batches (row indices; every row exactly once).

    Inputs: `clusters[i]`, the cluster of row i; `texts[i]`, its texts (query, positive, ...);
    `batch_size`; `rng` (seeded by the caller). Clusters are visited in a shuffled order, rows
    shuffled within each; a batch takes rows in that order, skipping a row that shares a text
    with the batch (it goes first into the next batch). Rows left over at the end because they
    share a text with each other (several queries of one passage) join earlier batches they do
    not clash with, so an epoch has ceil(rows / batch_size) batches, as the trainer's learning
    rate schedule expects, unless a text is in more rows than that (then a few more batches)."""
    groups: dict[int, list[int]] = {}
    for i, c in enumerate(clusters):
        groups.setdefault(c, []).append(i)
    order = list(groups)
    rng.shuffle(order)
    pending: deque[int] = deque()
    for c in order:
        rows = groups[c]
        rng.shuffle(rows)
        pending.extend(rows)
    batches: list[list[int]] = []
    while pending:
        batch: list[int] = []
        seen: set[str] = set()
        skipped: list[int] = []
        while pending and len(batch) < batch_size:
            i = pending.popleft()
            if seen.isdisjoint(texts[i]):
                batch.append(i)
                seen |= texts[i]
            else:
                skipped.append(i)
        pending.extendleft(reversed(skipped))
        batches.append(batch)
    expected = math.ceil(len(clusters) / batch_size)
    while len(batches) > expected:
        tail = batches.pop()
        kept: list[int] = []
        for i in tail:
            home = next((b for b in batches
                         if all(texts[j].isdisjoint(texts[i]) for j in b)), None)
            (home if home is not None else kept).append(i)
        if kept:  # no earlier batch can take them: they stay a batch of their own
            batches.append(kept)
            break
    return batches


def topic_sampler(encode: Callable[[list[str]], Any], seed: int) -> Callable[..., Any]:
    """A sentence-transformers `batch_sampler` factory (the trainer calls it with dataset,
    batch_size, drop_last, valid_label_columns, generator, seed) that clusters the dataset's
    first column with `encode` (texts -> normalised embeddings, the base student) and yields
    `topic_batches`."""
    from sentence_transformers.base.sampler import DefaultBatchSampler

    class TopicBatchSampler(DefaultBatchSampler):
        def __init__(self, dataset: Any, batch_size: int, drop_last: bool,
                     valid_label_columns: list[str] | None = None, generator: Any = None,
                     seed: int = seed) -> None:
            if drop_last:
                raise ValueError("topic batches keep every row: drop_last is not supported")
            super().__init__(dataset, batch_size=batch_size, drop_last=drop_last,
                             valid_label_columns=valid_label_columns, generator=generator, seed=seed)
            labels = set(valid_label_columns or [])
            columns = [c for c in dataset.column_names if c not in labels]
            self.texts = [frozenset(str(row[c]) for c in columns) for row in dataset]
            queries = [str(q) for q in dataset[columns[0]]]
            self.clusters = cluster(encode(queries), num_clusters(len(queries), batch_size), seed)
            self.num_topics = len(set(self.clusters))

        def __iter__(self) -> Iterator[list[int]]:
            rng = random.Random(self.seed + self.epoch)
            yield from topic_batches(self.clusters, self.texts, self.batch_size, rng)

        def __len__(self) -> int:
            return math.ceil(len(self.texts) / self.batch_size)

    return TopicBatchSampler
