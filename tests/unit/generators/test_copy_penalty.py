"""The copy penalty (`copy_penalty`): each prompt avoids the tokens of its own few-shot queries
that are not in its passage nor common in the pool; the texts travel in per-prompt
SamplingParams, are hashed into cache keys, and only backends that take a logit bias apply it."""

from __future__ import annotations

import pytest

from data_schemas.config import GenerationConfig, LLMConfig, QueryMethodConfig
from data_schemas.records import Passage, QueryRecord
from synthir.config import load_config
from synthir.generators.queries import QueryGenerator
from synthir.llm.base import Generation, SamplingParams, penalty_bias
from synthir.stages.common import batches, run_plan
from tests.conftest import REPO


def _words(text: str) -> list[int]:
    """A toy tokenizer: one id per lower-cased word (a leading space is the same token)."""
    return [hash(w.lower()) % 10_000 for w in text.split()]


def test_penalty_bias_is_the_avoided_tokens_minus_the_allowed_ones() -> None:
    params = SamplingParams(logit_penalty=5.0, avoid=("highest mountain in Africa", "fix a bike tyre"),
                            allow="The tyre of a bike holds air; in the mountain")
    bias = penalty_bias(_words, params)
    expected = {_words(w)[0] for w in ("highest", "africa", "fix")}
    assert set(bias) == expected and set(bias.values()) == {-5.0}
    assert penalty_bias(_words, SamplingParams(avoid=("x",), allow="")) == {}  # no penalty: no bias


def test_cache_keys_stay_as_before_without_a_penalty_and_differ_per_prompt_with_one() -> None:
    plain = SamplingParams(temperature=0.8, n=8).as_dict()
    assert not {"logit_penalty", "avoid", "allow", "avoid_sha256"} & set(plain)
    a = SamplingParams(temperature=0.8, n=8, logit_penalty=5.0, avoid=("q1",), allow="p").as_dict()
    b = SamplingParams(temperature=0.8, n=8, logit_penalty=5.0, avoid=("q2",), allow="p").as_dict()
    assert a["logit_penalty"] == 5.0 and a["avoid_sha256"] != b["avoid_sha256"]


def _gen(penalty: float) -> QueryGenerator:
    method = QueryMethodConfig(num_examples=3, example_selection="sample", num_queries=2, copy_penalty=penalty)
    return QueryGenerator(method, GenerationConfig(), LLMConfig(backend="llamacpp", temperature=0.8), ["fr"], seed=3)


def test_each_prompt_avoids_its_own_examples_but_keeps_its_passage_and_the_common_words() -> None:
    gen = _gen(5.0)
    passages = [Passage(id=f"p{i}", lang="fr", title=f"Titre {i}", text=f"Un passage numéro {i} sur l'impression.")
                for i in range(4)]
    items = gen.build_prompts(passages, ["fr"])
    common = gen.common_words("fr").split()
    assert "de" in common and "comment" in common  # function words of the shipped French pool
    assert all(sum(w in str(r["query"]).split() for r in gen.examples["fr"]) >= 2 for w in ["de", "comment"])
    for item in items:
        params = gen.sampling_params(item)
        assert params.logit_penalty == 5.0 and len(params.avoid) == 3
        assert all(q in item.text for q in params.avoid)  # the queries shown in this very prompt
        assert item.passage.text in params.allow and "comment" in params.allow.split()
    assert len({gen.sampling_params(i).avoid for i in items}) > 1
    rec = gen.parse(items[0], Generation(text=" imprimer un passage\n", finish_reason="stop"), "b", "m")
    assert isinstance(rec, QueryRecord) and rec.provenance.sampling["logit_penalty"] == 5.0


def test_penalised_prompts_are_sent_one_per_call_with_their_own_params() -> None:
    passages = [Passage(id=f"p{i}", lang="fr", text=f"Passage {i} sur gedit.") for i in range(3)]
    for penalty, calls in ((0.0, 1), (5.0, 3)):
        gen = _gen(penalty)
        items = gen.build_prompts(passages, ["fr"])
        sent = list(batches(gen, items, list(range(3)), 8))
        assert len(sent) == calls and sorted(k for idx, _ in sent for k in idx) == [0, 1, 2]
        seen: list[SamplingParams] = []

        class Recorder:
            backend, model_id = "rec", "m"

            def generate(self, prompts: list[str], params: SamplingParams) -> list[Generation]:
                seen.append(params)
                return [Generation(text=" une requête sur gedit", finish_reason="stop")] * (len(prompts) * params.n)

        records, _, _ = run_plan(Recorder(), [(gen, items)], None, QueryRecord, 8)
        assert len(seen) == calls and len(records) == 6
        assert [p.avoid for p in seen] == ([()] if not penalty else [gen.sampling_params(i).avoid for i in items])


def test_a_backend_without_logit_bias_warns_and_records_no_penalty(caplog) -> None:
    """Like json_schema: applied where the backend can; elsewhere said once, and the records
    do not claim it (their provenance has no logit_penalty) and prompts keep their batches."""
    with caplog.at_level("WARNING", logger="synthir"):
        cfg = load_config(REPO / "configs/downstream_copy_penalty.yaml",
                          ["llm.backend=openai", "llm.base_url=http://127.0.0.1:9", "llm.model=m"])
    assert any("copy_penalty is not applied: backend openai" in r.getMessage() for r in caplog.records)
    gen = QueryGenerator(cfg.generation.queries[0], cfg.generation, cfg.llm, ["fr"], seed=3)
    item = gen.build_prompts([Passage(id="p", lang="fr", text="Un passage sur gedit.")], ["fr"])[0]
    assert not gen.per_prompt_params and gen.sampling_params(item) == gen.sampling_params()
    assert "logit_penalty" not in gen.sampling_params(item).as_dict()
