"""The copy probe (stage probe): examples the model copies are retired before the main round,
copies of them are still rejected, and the main round's prompts never show them again."""

import json
import re
from collections import Counter

from data_schemas.records import Passage, PoolExample, QueryRecord
from synthir.funnel import compute_funnel
from synthir.llm.base import Generation
from synthir.rounds import first_round_passages
from synthir.rundir import prepare_run, read_records, write_records
from synthir.stages import run_stage
from synthir.stages.generate import GENERATE
from synthir.stages.index import INDEX
from synthir.stages.ingest import INGEST
from synthir.stages.bootstrap import pilot_passages
from synthir.stages.probe import KEEP_FACTOR, MIN_POOL, PROBE, RETIRE_AT, TARGET_RATE, pools, probe_passages, retire
from tests.conftest import REPO, demo_config

EN = [json.loads(line) for line in (REPO / "prompts/query/examples/en.jsonl").read_text().splitlines()]
FAVOURITE = EN[1]["query"]  # "where is the largest coral reef in the world"


class CopyingLLM:
    """Copies FAVOURITE whenever a prompt shows it; otherwise answers with the first three
    words of the passage asked about (a model with one favourite example)."""

    backend = "scripted"
    model_id = "copier-v1"

    def __init__(self) -> None:
        self.prompts: list[str] = []

    def generate(self, prompts, params):
        out = []
        for p in prompts:
            self.prompts.append(p)
            last = p.rsplit("Passage:", 1)[1]
            text = FAVOURITE if FAVOURITE in p else " ".join(re.findall(r"\w+", last)[:3])
            out += [Generation(text=f" {text}\n", finish_reason="stop", prompt_tokens=10, completion_tokens=4)
                    for _ in range(params.n)]
        return out


def _row(i: int, lang: str = "en", **kw) -> PoolExample:
    return PoolExample(id=f"e{i}", method=0, lang=lang, passage=f"p {i}", query=f"q {i}", source="s", **kw)


def test_retire_takes_the_most_copied_first_and_keeps_a_minimum():
    rows = [_row(i) for i in range(4)] + [_row(9, lang="fr")]
    copies = Counter({("en", "e0"): RETIRE_AT, ("en", "e1"): RETIRE_AT + 3, ("en", "e2"): RETIRE_AT,
                      ("en", "e3"): RETIRE_AT - 1, ("fr", "e9"): 5})
    out = retire(rows, copies)
    assert [r.copies for r in out] == [RETIRE_AT, RETIRE_AT + 3, RETIRE_AT, RETIRE_AT - 1, 5]
    # e1 (most copied) then e0 (pool order) go; e2 would leave fewer than MIN_POOL active
    assert [r.id for r in out if r.retired] == ["e0", "e1"]
    assert sum(not r.retired for r in out if r.lang == "en") == MIN_POOL
    assert not out[4].retired  # the only French example stays (MIN_POOL)
    again = retire(out, Counter({("en", "e3"): 1}))  # copies add up over rounds
    assert again[3].copies == RETIRE_AT and not again[3].retired
    settled = retire(rows, copies, settled={"en"})  # en's copy rate is at the target: no retirement
    assert [r.id for r in settled if r.retired] == [] and settled[1].copies == RETIRE_AT + 3
    # floor 3 (num_examples 3: a prompt shows 3): only the most copied goes
    assert [r.id for r in retire(rows, copies, floor=3) if r.retired] == ["e1"]


def test_the_probe_retires_the_copied_example_and_the_main_round_never_shows_it(wiki_corpus, tmp_path):
    cfg = demo_config(wiki_corpus, tmp_path / "out", **{
        "sample.n": 12, "shard_size": 12, "languages": "[en]", "sample.languages": "[en]",
        "generation.queries[0].example_probe": 6, "generation.queries[0].num_queries": 2})
    paths = prepare_run(cfg)
    run_stage(INGEST, cfg, paths)
    run_stage(INDEX, cfg, paths)
    llm = CopyingLLM()
    stats = run_stage(PROBE, cfg, paths, llm=llm)
    en = stats["methods"]["0"]["en"]
    assert en["retired_queries"] == [FAVOURITE] and en["retired"] == 1
    assert en["rounds"] == 2 and en["copies"] >= RETIRE_AT  # round 2 retired nothing: stop
    assert en["copy_rate_per_round"][0] > TARGET_RATE and en["copy_rate_per_round"][1] == 0
    assert en["completions"] == len(llm.prompts) * 2 == 2 * 6 * 2
    rows = read_records(paths.example_pools, PoolExample)
    assert len(rows) == len(EN) and {r.query for r in rows if r.retired} == {FAVOURITE}
    assert all(r.source == "probed:query/examples/en.jsonl" for r in rows)
    assert pools(paths)[0]["en"][1]["retired"] is True

    llm.prompts.clear()
    [shard] = paths.shard_dirs()
    gen = run_stage(GENERATE, cfg, paths, shard, llm=llm)
    assert llm.prompts and not any(FAVOURITE in p for p in llm.prompts)
    assert gen["parsed"] == len(read_records(shard.queries, QueryRecord)) > 0
    assert run_stage(PROBE, cfg, paths, llm=CopyingLLM()) == stats  # same inputs: not redone
    funnel = compute_funnel(cfg, paths)
    assert funnel["passage_yield"]["promptagator/en"]["retired_examples"] == 1
    assert funnel["tokens_by_stage"]["probe"]["calls"] == en["completions"]


def test_the_probe_keeps_twice_the_examples_a_prompt_shows(wiki_corpus, tmp_path):
    """KEEP_FACTOR x num_examples stay active: with 8 shown per prompt, a pool of 16 retires
    nothing, even the example the model copies every time it is shown."""
    shown = len(EN) // KEEP_FACTOR
    cfg = demo_config(wiki_corpus, tmp_path / "out", **{
        "sample.n": 12, "shard_size": 12, "languages": "[en]", "sample.languages": "[en]",
        "generation.queries[0].example_probe": 6, "generation.queries[0].num_queries": 2,
        "generation.queries[0].num_examples": shown})
    paths = prepare_run(cfg)
    run_stage(INGEST, cfg, paths)
    run_stage(INDEX, cfg, paths)
    llm = CopyingLLM()
    en = run_stage(PROBE, cfg, paths, llm=llm)["methods"]["0"]["en"]
    assert en["copies"] >= RETIRE_AT and en["copy_rate_per_round"][0] > TARGET_RATE  # it was copied
    assert en["retired"] == 0 and en["rounds"] == 1  # but the floor holds all 16
    assert not any(r.retired for r in read_records(paths.example_pools, PoolExample))


def test_probe_passages_leave_the_pilot_passages_for_last(wiki_corpus, tmp_path):
    cfg = demo_config(wiki_corpus, tmp_path / "out", **{"sample.n": 12, "languages": "[en]", "sample.languages": "[en]"})
    paths = prepare_run(cfg)
    run_stage(INGEST, cfg, paths)
    method = cfg.generation.queries[0].model_copy(update={"examples": "bootstrap", "bootstrap_passages": 9,
                                                           "example_probe": 5})
    pilot = {p.id for p in pilot_passages(cfg, paths, 9)}
    got = probe_passages(cfg, paths, method)
    assert len(got) == 5 and len({p.id for p in got}) == 5
    assert [p.id in pilot for p in got] == [False] * 3 + [True] * 2  # the 3 others first
    assert [p.id for p in probe_passages(cfg, paths, method)] == [p.id for p in got]  # seeded
    pool_method = method.model_copy(update={"examples": "pool"})
    assert len(probe_passages(cfg, paths, pool_method.model_copy(update={"example_probe": 50}))) == 12


def test_a_new_target_round_leaves_the_pool_passages_alone(wiki_corpus, tmp_path):
    """Target mode adds shards in rounds; the pilot and the probe draw from round 0 only, so
    their pools, and the shards generated from them, stay as they were."""
    cfg = demo_config(wiki_corpus, tmp_path / "out", **{"sample.n": 8, "shard_size": 8, "languages": "[en]",
                                                        "sample.languages": "[en]"})
    paths = prepare_run(cfg)
    run_stage(INGEST, cfg, paths)
    method = cfg.generation.queries[0].model_copy(update={"examples": "bootstrap", "bootstrap_passages": 4,
                                                           "example_probe": 20})
    before = ([p.id for p in pilot_passages(cfg, paths, 4)], [p.id for p in probe_passages(cfg, paths, method)])
    [shard0] = paths.shard_dirs()
    extra = [p.model_copy(update={"id": f"{p.id}-r1"}) for p in read_records(shard0.passages, Passage)]
    write_records(paths.shard(1).passages, extra)  # round 1's shard
    paths.rounds.write_text(json.dumps({"rounds": [{"round": 0, "first_shard": 0, "shards": 1},
                                                   {"round": 1, "first_shard": 1, "shards": 1}]}))
    assert len(first_round_passages(paths)) == 8
    assert ([p.id for p in pilot_passages(cfg, paths, 4)], [p.id for p in probe_passages(cfg, paths, method)]) == before
    paths.rounds.unlink()  # no target mode: every shard is the sample
    assert len(first_round_passages(paths)) == 16
