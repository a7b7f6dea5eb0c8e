"""The LLM as a yes/no judge (teacher.kind: llm), for real: the embedded models on llama.cpp
and transformers. The 270M base Gemma is checked for plumbing only (its judgments are close to
constant: docs/results.md); the packaged Qwen2.5-0.5B-Instruct must rank the answering passage
above an unrelated one."""

import numpy as np
import pytest

from data_schemas.config import LLMConfig
from synthir.errors import ConfigError
from synthir.llm.judge import YesNoJudge

pytestmark = pytest.mark.slow
TOWER = "The Eiffel Tower was built from 1887 to 1889 for the World's Fair in Paris."
BANANA = "Bananas are a fruit rich in potassium, grown in tropical regions."
PAIRS = [("when was the eiffel tower built", TOWER), ("when was the eiffel tower built", BANANA),
         ("banana potassium", BANANA), ("banana potassium", TOWER)]


def test_judge_scores_are_probabilities_independent_of_order_and_backend():
    scores = {}
    for backend in ("llamacpp", "transformers"):
        judge = YesNoJudge(LLMConfig(backend=backend, model="embedded"))
        s = judge(PAIRS)
        assert s.shape == (4,) and ((s > 0) & (s < 1)).all()
        # llama.cpp keeps the shared prompt prefix in its KV cache: the order must not matter
        np.testing.assert_allclose(judge(PAIRS[::-1])[::-1], s, atol=1e-4)
        assert judge.name.startswith("llm-judge:gemma-3-270m") and "teacher/yes_no.j2@" in judge.name
        scores[backend] = s
    np.testing.assert_allclose(scores["llamacpp"], scores["transformers"], atol=0.05)  # same weights


def test_instruct_judge_prefers_the_answering_passage():
    s = YesNoJudge(LLMConfig(backend="llamacpp", model="embedded-instruct"))(PAIRS)
    assert s[0] > s[1] and s[2] > s[3], s


def test_backends_without_logprobs_are_a_config_error():
    with pytest.raises(ConfigError, match="needs next-token log-probs"):
        YesNoJudge(LLMConfig(backend="openai", base_url="http://127.0.0.1:9/v1", model="m"))
