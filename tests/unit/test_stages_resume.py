"""Stage control flow with a scripted LLM: failed calls are counted, and redone on re-run."""

import re

from datasets import load_dataset

from synthir.llm.base import Generation
from synthir.publish.hf import publish
from synthir.rundir import prepare_run
from synthir.stages import run_stage
from synthir.stages.filter import FILTER
from synthir.stages.generate import GENERATE
from synthir.stages.index import INDEX
from synthir.stages.ingest import INGEST
from synthir.stages.roundtrip import ROUNDTRIP
from tests.conftest import ONE_GREEDY_QUERY, demo_config


class ScriptedLLM:
    """Answers with the first three words of the passage being asked about; fails the
    prompts whose passage id hash is odd while `flaky` is set."""

    backend = "scripted"
    model_id = "scripted-v1"

    def __init__(self, flaky: bool):
        self.flaky = flaky
        self.calls = 0

    def generate(self, prompts, params):
        out = []
        for p in prompts:
            self.calls += 1
            last = p.rsplit("Passage:", 1)[1].strip()
            if self.flaky and len(last) % 2:
                out.append(Generation(text="", finish_reason="error", error="HTTP 503"))
            else:
                words = re.findall(r"\w+", last)[:3]
                out.append(Generation(text=" " + " ".join(words) + "\n", finish_reason="stop",
                                      prompt_tokens=10, completion_tokens=4))
        return out


def test_failed_calls_are_counted_then_redone(wiki_corpus, tmp_path):
    cfg = demo_config(wiki_corpus, tmp_path / "out", **{"sample.n": 8, "shard_size": 8,
                                                        "languages": "[en]", **ONE_GREEDY_QUERY})
    paths = prepare_run(cfg)
    run_stage(INGEST, cfg, paths)
    run_stage(INDEX, cfg, paths)
    [shard] = paths.shard_dirs()

    first = run_stage(GENERATE, cfg, paths, shard, llm=ScriptedLLM(flaky=True))
    assert 0 < first["llm_errors"] < 8 and not first["complete"]
    f1 = run_stage(FILTER, cfg, paths)
    assert f1["in"] == first["parsed"]
    rt1 = run_stage(ROUNDTRIP, cfg, paths, shard)
    assert rt1["in"] == f1["kept"]
    result = publish(cfg, paths)
    assert result["funnel"]["dropped"]["generate"] == {"llm_error": first["llm_errors"]}
    assert result["funnel"]["queries"]["generated"] == 8 - first["llm_errors"]

    llm = ScriptedLLM(flaky=False)
    second = run_stage(GENERATE, cfg, paths, shard, llm=llm)
    assert second["complete"] and second["llm_errors"] == 0 and llm.calls == 8
    f2 = run_stage(FILTER, cfg, paths)
    assert f2["in"] == second["parsed"] > f1["in"]  # the filters saw the new queries
    assert run_stage(FILTER, cfg, paths) == f2  # same inputs: not redone
    rt2 = run_stage(ROUNDTRIP, cfg, paths, shard)
    assert rt2["in"] == f2["kept"] > rt1["in"]  # the round trip saw them too
    assert run_stage(GENERATE, cfg, paths, shard, llm=ScriptedLLM(flaky=True)) == second  # complete: skipped
    assert run_stage(ROUNDTRIP, cfg, paths, shard) == rt2
    result = publish(cfg, paths)
    assert "generate" not in result["funnel"]["dropped"]
    assert result["rows"]["pairs"] == rt2["kept"]


def test_yield_per_method_and_language(wiki_corpus, tmp_path):
    """The funnel's passage yield counts passages with a kept query, kept pairs per passage and
    the copied-example rate from the stages' own files."""
    from synthir.pipeline import run_stages, start
    from synthir.stages import STAGES

    cfg = demo_config(wiki_corpus, tmp_path / "out", **{"sample.n": 6, "shard_size": 3, "languages": "[en]"})
    result = run_stages(cfg, start(cfg), STAGES, llm=ScriptedLLM(flaky=False), progress=False)
    y = result["funnel"]["passage_yield"]["promptagator/en"]
    pairs = load_dataset(str(tmp_path / "out"), "pairs")["train"] if result["rows"]["pairs"] else []
    assert y["passages"] == 6 and y["kept"] == result["rows"]["pairs"]
    assert y["passages_with_kept"] == len({p["positive_id"] for p in pairs}) <= 6
    assert y["kept_per_passage"] == round(y["kept"] / 6, 3)
    copied = result["funnel"]["dropped"].get("parse", {}).get("copied_example", 0)
    assert y["copied_example_rate"] == round(copied / 6, 4)


def test_missing_or_changed_output_reruns_its_stage_and_the_next(wiki_corpus, tmp_path):
    """A done-marker records its outputs' sha256: a deleted or truncated output makes the stage
    run again (same result), and a stage whose input changed runs again too."""
    cfg = demo_config(wiki_corpus, tmp_path / "out", **{"sample.n": 4, "shard_size": 4, "languages": "[en]"})
    paths = prepare_run(cfg)
    run_stage(INGEST, cfg, paths)
    [shard] = paths.shard_dirs()
    llm = ScriptedLLM(flaky=False)
    gen = run_stage(GENERATE, cfg, paths, shard, llm=llm)
    assert gen["outputs"] == {"shards/00000/queries.jsonl": gen["outputs"]["shards/00000/queries.jsonl"],
                              "shards/00000/generate_rejected.jsonl": gen["outputs"]["shards/00000/generate_rejected.jsonl"]}
    filt = run_stage(FILTER, cfg, paths)
    queries = shard.queries.read_bytes()
    shard.queries.unlink()
    again = run_stage(GENERATE, cfg, paths, shard, llm=llm)
    assert shard.queries.read_bytes() == queries and llm.calls == 8  # ran again, same file
    assert run_stage(FILTER, cfg, paths) == filt  # same input bytes: not redone
    shard.queries.write_bytes(queries[: len(queries) // 2])  # truncated
    run_stage(GENERATE, cfg, paths, shard, llm=llm)
    assert shard.queries.read_bytes() == queries and llm.calls == 12
    assert again["outputs"] == gen["outputs"]
    (shard.base / "generate.done.json").write_text("{not json")  # a damaged marker counts as none
    run_stage(GENERATE, cfg, paths, shard, llm=llm)
    assert llm.calls == 16


def test_yield_says_how_much_the_llm_cache_served(wiki_corpus, tmp_path):
    """A re-run whose calls all come from the response cache reports that share next to its
    kept pairs per hour (that rate is then no generation speed); a fresh run reports 0."""
    from synthir.llm.cache import CachedLLM
    from synthir.pipeline import run_stages, start
    from synthir.report import summary_text
    from synthir.stages import STAGES

    shares = []
    for out in ("a", "b"):
        cfg = demo_config(wiki_corpus, tmp_path / out, **{"sample.n": 4, "shard_size": 4, "languages": "[en]",
                                                           **ONE_GREEDY_QUERY})
        llm = CachedLLM(ScriptedLLM(flaky=False), tmp_path / "responses.sqlite")
        result = run_stages(cfg, start(cfg), STAGES, llm=llm, progress=False)
        shares.append(result["funnel"]["passage_yield"]["promptagator/en"]["cached_call_share"])
    assert shares == [0.0, 1.0]
    assert "(100% of the calls from the LLM cache)" in summary_text(result)
    assert "% of the calls from the LLM cache" in (tmp_path / "b" / "README.md").read_text()
