"""benchmarks/downstream.py's table: the test-half row per eval, the seeds-resampled line, then
the unseen-question line."""

from __future__ import annotations

from tests.benchmark_scripts import load_benchmark

downstream = load_benchmark("downstream")


def _eval(unseen):
    arm = {"ndcg@10": {"mean": 0.5, "std": 0.0, "n": 1}}
    d = {"mean": 0.1, "ci_low": -0.02, "ci_high": 0.2}
    e = {"student": "e5-small", "loss": "mnrl", "test_queries": 63, "arms": {"base": arm, "synthetic": arm},
         "deltas": {"synthetic-base": d}}
    return {**e, "unseen": unseen} if unseen is not None else e


def test_markdown_adds_the_unseen_line_and_reads_older_results():
    gen = {"lang": "de", "passages": 3, "prompts": 24, "parsed": 20, "kept_pairs": 9,
           "passages_with_a_kept_query": 3, "seconds": 1.0, "rows": {}}
    unseen = {"queries": 144, "test_queries": 63, "train_queries": 89, "left_out": 8, "shown": 8,
              "base": 0.879, "synthetic": 0.896, "delta": {"mean": 0.0175, "ci_low": -0.008, "ci_high": 0.044}}
    res = {"machine": "x", "seeds": [0], "recipe": "r.yaml",
           "devsets": [{"devset": "apps-de", "generation": gen, "evals": [_eval(unseen), _eval(None)]}]}
    md = downstream.markdown(res)
    assert md.count("| e5-small | mnrl | 63 |") == 2
    assert ("every question the synthetic arm never saw (144: the test half + 81 human-train, 8 left out as "
            "shown, trained on or worded as a test question): base 0.879, synthetic 0.896, synthetic − base +0.018 [-0.008, +0.044].") in md
    assert md.count("never saw") == 1  # an eval of an older results file has no such line


def test_markdown_adds_the_multi_bootstrap_line_when_there_is_one():
    gen = {"lang": "de", "passages": 3, "prompts": 24, "parsed": 20, "kept_pairs": 9,
           "passages_with_a_kept_query": 3, "seconds": 1.0, "rows": {}}
    seeded = {**_eval(None), "deltas_seeds": {"synthetic-base": {"mean": 0.1, "ci_low": -0.031, "ci_high": 0.212}}}
    res = {"machine": "x", "seeds": [0, 1, 2], "recipe": "r.yaml",
           "devsets": [{"devset": "apps-de", "generation": gen, "evals": [seeded, _eval(None)]}]}
    md = downstream.markdown(res)
    assert "e5-small / mnrl, the seeds resampled too (Multi-Bootstrap): synthetic − base [-0.031, +0.212]." in md
    assert md.count("Multi-Bootstrap") == 1  # not for an eval without it (one seed, or an older file)


def test_training_times_give_each_arms_seconds_per_step_and_the_markdown_names_them():
    training = {"synthetic": {"source": "pairs", "rows": 658, "runs": [
                    {"seed": 0, "steps": 63, "loss": 0.07, "seconds": 640.0},
                    {"seed": 1, "steps": 63, "loss": 0.08, "seconds": 650.0}]},
                "human": {"source": "human", "rows": 85, "runs": [{"seed": 0, "steps": 9, "loss": 0.1, "seconds": 77.0}]},
                "base": {"runs": []}}
    t = downstream.training_times(training)
    assert t["synthetic"] == {"runs": [{"seed": 0, "steps": 63, "seconds": 640.0},
                                       {"seed": 1, "steps": 63, "seconds": 650.0}], "seconds_per_step": 10.24}
    assert t["human"]["seconds_per_step"] == 8.56
    assert t["base"] == {"runs": [], "seconds_per_step": None}  # nothing trained: no rate, not 0
    gen = {"lang": "es", "passages": 3, "prompts": 24, "parsed": 20, "kept_pairs": 9,
           "passages_with_a_kept_query": 3, "seconds": 1.0, "rows": {}}
    res = {"machine": "x", "seeds": [0, 1], "recipe": "r.yaml",
           "devsets": [{"devset": "apps-es", "generation": gen, "evals": [{**_eval(None), "training": t}, _eval(None)]}]}
    md = downstream.markdown(res)
    assert ("e5-small / mnrl, fine-tunes: synthetic 2 × 63 steps, 10.24 s per step; "
            "human 1 × 9 steps, 8.56 s per step.") in md
    assert md.count("fine-tunes:") == 1  # an eval recorded before `training` has no such line
