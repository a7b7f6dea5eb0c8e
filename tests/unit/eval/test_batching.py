"""Topic-aware batches (eval/batching.py): every row once, no shared text in a batch, batches
drawn cluster by cluster, the epoch's batch count the trainer expects, seeded."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from synthir.eval.batching import cluster, num_clusters, topic_batches


def _rows(n_passages: int, per_passage: int) -> list[frozenset[str]]:
    return [frozenset({f"q{p}-{j}", f"passage {p}"}) for p in range(n_passages) for j in range(per_passage)]


def test_every_row_once_and_no_shared_text_in_a_batch():
    texts = _rows(40, 4)  # 160 rows, 4 queries per passage
    clusters = [(i // 4) % 5 for i in range(len(texts))]  # 5 topics of 8 passages
    batches = topic_batches(clusters, texts, 16, random.Random(0))
    assert sorted(i for b in batches for i in b) == list(range(160))
    for b in batches:
        assert len(set().union(*(texts[i] for i in b))) == sum(len(texts[i]) for i in b)
    assert len(batches) == math.ceil(160 / 16)


def test_a_batch_comes_from_as_few_clusters_as_its_texts_allow():
    texts = [frozenset({f"q{i}", f"p{i}"}) for i in range(64)]  # all distinct
    clusters = [i % 4 for i in range(64)]  # 4 clusters of 16 rows
    for seed in range(3):
        for b in topic_batches(clusters, texts, 16, random.Random(seed)):
            assert len({clusters[i] for i in b}) == 1  # a cluster fills a batch exactly


def test_random_order_mixes_clusters_topic_order_does_not():
    texts = [frozenset({f"q{i}", f"p{i}"}) for i in range(64)]
    clusters = [i % 4 for i in range(64)]
    a = topic_batches(clusters, texts, 16, random.Random(1))
    b = topic_batches(clusters, texts, 16, random.Random(1))
    c = topic_batches(clusters, texts, 16, random.Random(2))
    assert a == b and a != c  # seeded, and reshuffled by another seed (epoch)


def test_leftover_rows_of_one_passage_join_earlier_batches():
    # one passage with 6 queries in a single cluster: the greedy pass leaves 5 of them over
    texts = [frozenset({f"q{i}", "p0"}) for i in range(6)] + [frozenset({f"r{i}", f"p{i + 1}"}) for i in range(18)]
    clusters = [0] * 24
    batches = topic_batches(clusters, texts, 4, random.Random(0))
    assert len(batches) == 6 and sorted(i for b in batches for i in b) == list(range(24))
    assert all(sum("p0" in texts[i] for i in b) <= 1 for b in batches)


def test_a_text_in_more_rows_than_batches_gets_extra_batches_not_a_clash():
    texts = [frozenset({f"q{i}", "p0"}) for i in range(5)] + [frozenset({"r", "p1"})]
    batches = topic_batches([0] * 6, texts, 4, random.Random(0))
    assert len(batches) == 5 and sorted(i for b in batches for i in b) == list(range(6))
    assert all(sum("p0" in texts[i] for i in b) <= 1 for b in batches)


def test_num_clusters_is_about_two_batches_a_cluster():
    assert num_clusters(577, 32) == 10 and num_clusters(10, 32) == 1 and num_clusters(0, 32) == 1


def test_kmeans_finds_planted_topics():
    rng = np.random.default_rng(0)
    centres = np.eye(8, dtype="float32")[:3] * 5
    x = np.concatenate([c + rng.normal(0, 0.1, (20, 8)) for c in centres]).astype("float32")
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    ids = cluster(x, 3, seed=0)
    assert len(set(ids)) == 3
    assert all(len(set(ids[t * 20:(t + 1) * 20])) == 1 for t in range(3))
    assert cluster(x, 1, seed=0) == [0] * 60 and len(set(cluster(x[:2], 5, seed=0))) <= 2


def test_unknown_batching_is_a_config_error():
    from synthir.errors import ConfigError
    from synthir.eval.train import TrainOptions

    with pytest.raises(ConfigError, match="--batching must be one of random, topic"):
        TrainOptions(batching="tas").check()
