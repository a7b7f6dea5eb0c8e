"""The Prefect flow runs target mode in rounds and meters its thread tasks' LLM calls against the
budget, like `synthir run` (scripted backend, temporary local Prefect server)."""

import json

import pytest

from synthir.errors import ConfigError
from synthir.rundir import RunDir
from tests import scripted_backend as sb
from tests.conftest import ONE_GREEDY_QUERY, demo_config


@pytest.fixture(autouse=True)
def scripted():
    sb.register()
    sb.SENT.clear()
    yield
    sb.unregister()


def test_flow_reaches_the_target_in_rounds_then_stops_on_budget(wiki_corpus, tmp_path):
    from flows.generate import check_budget_runner, generate

    sets = {"llm.backend": "scripted", "llm.model": "scripted-flow", "sample.n": 4, "shard_size": 4,
            "filters.language_check": False, "generation.language_check": False, "target.kept_pairs": 10,
            **ONE_GREEDY_QUERY}
    result = generate(demo_config(wiki_corpus, tmp_path / "out", **sets))
    state = json.loads(RunDir(tmp_path / "out").rounds.read_text())
    assert state["stopped"] == "target_reached" and len(state["rounds"]) >= 2 and result["stopped"] is None
    assert result["rows"]["pairs"] == state["kept"]["total"] >= 10
    sent = len(sb.SENT)
    capped = generate(demo_config(wiki_corpus, tmp_path / "out", **{**sets, "target.kept_pairs": 200,
                                                                      "budget.max_tokens": 3000}))
    assert capped["stopped"].startswith("budget (max_tokens") and len(sb.SENT) > sent
    assert len(sb.SENT) == len(set(sb.SENT))  # nothing asked twice across the two flows
    with pytest.raises(ConfigError, match="budget.* is enforced in this process"):
        check_budget_runner(demo_config(wiki_corpus, tmp_path / "x", **{"budget.max_tokens": 5,
                                                                         "orchestration.task_runner": "dask"}))
