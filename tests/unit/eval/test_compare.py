"""Seed aggregation (mean / std / min / max per metric and group), the comparison's deltas
and CIs, and the printed table, on planted per-query scores."""

from __future__ import annotations

import pytest

from synthir.eval.compare import arm_summary, compare, spread, table

Q = ["a", "b", "c", "d"]
GROUPS = {"all": Q, "lang:en": ["a", "b"]}


def scores(ndcg: list[float], recall: float = 1.0, mrr: float = 0.5) -> dict[str, dict[str, float]]:
    return {"ndcg@10": dict(zip(Q, ndcg, strict=True)), "recall@100": {q: recall for q in Q},
            "mrr@10": {q: mrr for q in Q}}


def test_spread():
    s = spread([0.1, 0.2, 0.3])
    assert s == {"mean": 0.2, "std": 0.1, "min": 0.1, "max": 0.3, "n": 3}
    assert spread([0.5]) == {"mean": 0.5, "std": 0.0, "min": 0.5, "max": 0.5, "n": 1}


def test_arm_summary_per_seed_and_group():
    runs = [scores([0.2, 0.4, 0.0, 0.0]), scores([0.4, 0.6, 0.0, 0.0], recall=0.5)]
    s = arm_summary(runs, GROUPS)
    assert s["lang:en"]["ndcg@10"] == {"mean": 0.4, "std": pytest.approx(0.1414, abs=1e-4), "min": 0.3,
                                       "max": 0.5, "n": 2}
    assert s["all"]["ndcg@10"]["mean"] == 0.2 and s["all"]["recall@100"]["min"] == 0.5


def test_compare_deltas_use_the_per_query_mean_over_seeds():
    base = [scores([0.1, 0.2, 0.3, 0.4])]
    synthetic = [scores([0.1, 0.2, 0.3, 0.4]), scores([0.3, 0.4, 0.5, 0.6])]  # mean: base + 0.1
    human = [scores([0.1, 0.2, 0.3, 0.4]), scores([0.1, 0.2, 0.3, 0.4])]  # = base
    comp = compare({"base": base, "synthetic": synthetic, "human": human}, GROUPS, resamples=200, seed=0)
    assert set(comp["deltas"]) == {"synthetic-base", "human-base", "synthetic-human"}
    d = comp["deltas"]["synthetic-base"]["all"]
    assert (d["ci_low"], d["ci_high"], d["share_above_0"]) == (pytest.approx(0.1), pytest.approx(0.1), 1.0)
    h = comp["deltas"]["human-base"]["lang:en"]
    assert (h["ci_low"], h["ci_high"], h["share_above_0"], h["n_queries"]) == (0.0, 0.0, 0.0, 2)
    assert comp["arms"]["synthetic"]["all"]["ndcg@10"]["std"] > 0
    assert comp["arms"]["base"]["all"]["ndcg@10"]["n"] == 1
    # without a human arm: one delta only
    assert set(compare({"base": base, "synthetic": synthetic}, GROUPS)["deltas"]) == {"synthetic-base"}
    # several seeds: the Multi-Bootstrap too; the two seeds differ by 0.2 on every query, so
    # resampling them widens synthetic-base's zero-width interval to [0, +0.2]
    m = comp["deltas_seeds"]["synthetic-base"]["all"]
    assert (m["ci_low"], m["ci_high"], m["seeds_a"], m["seeds_b"]) == (pytest.approx(0.0), pytest.approx(0.2), 2, 1)
    assert set(comp["deltas_seeds"]) == {"synthetic-base", "human-base", "synthetic-human"}
    one = compare({"base": base, "synthetic": synthetic[:1]}, GROUPS)
    assert "deltas_seeds" not in one  # one run per arm: nothing to resample


def test_table_shows_arms_deltas_and_cis():
    comp = compare({"base": [scores([0.1] * 4)], "synthetic": [scores([0.2] * 4), scores([0.3] * 4)],
                    "human": [scores([0.2] * 4), scores([0.2] * 4)]}, GROUPS, resamples=50)
    info = {"queries": {"all": 4, "lang:en": 2}, "seeds": [0, 1], "corpus": 9,
            "training": {"synthetic": {"rows": 6, "source": "mnrl: triplets", "loss": "mnrl",
                                       "runs": [{"steps": 1, "loss": 0.5}, {"steps": 1, "loss": 0.4}]}},
            "human_split": {"fraction": 0.5, "seed": 0, "train_queries": 4, "test_queries": 4}}
    text = table({"comparison": comp, "info": info})
    assert "0.2500±0.0707" in text and "synthetic-human" in text and "+0.0500" in text
    assert "nDCG@10 95% CI: synthetic-base [+0.1500, +0.1500] >0 in 100%" in text
    assert "seeds resampled too: synthetic-base [+0.1000, +0.2000]" in text and "Multi-Bootstrap" in text
    assert "human split 0.5" in text and "lang:en" in text
