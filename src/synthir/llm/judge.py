"""An LLM as a yes/no relevance judge, for the teacher stage (`teacher.kind: llm`).

The score of a (query, passage) pair is P("yes") / (P("yes") + P("no")) for the token that
follows the judge prompt (`prompts/teacher/yes_no.j2`), read from the model's next-token
log-probabilities; each word counts its spellings " yes", "yes", " Yes", "Yes". This is the
pointwise yes/no relevance judgment of RankGPT-style LLM rerankers and of monoT5 (Nogueira
et al., 2020, "Document Ranking with a Pretrained Sequence-to-Sequence Model"), used as GPL's
teacher (Wang et al., 2022) in place of a cross-encoder.

Backends: those that expose next-token log-probabilities in-process (`llamacpp`,
`transformers`); others are a ConfigError. Input: (query, passage) pairs. Output: scores in
[0, 1], one per pair, in input order.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from data_schemas.config import LLMConfig
from synthir.errors import ConfigError
from synthir.prompting import PromptLibrary

TEMPLATE = "teacher/yes_no.j2"
YES = (" yes", "yes", " Yes", "Yes")
NO = (" no", "no", " No", "No")
SUPPORTED = ("llamacpp", "transformers")


def _logsumexp(xs: list[float]) -> float:
    m = max(xs)
    return m + math.log(sum(math.exp(x - m) for x in xs))


class YesNoJudge:
    """score(pairs) -> np.ndarray of P(yes | prompt) normalised over yes and no (see module doc)."""

    def __init__(self, cfg: LLMConfig, prompts_dir: str | None = None, template: str = TEMPLATE,
                 what: str = "teacher.kind llm") -> None:
        if cfg.backend not in SUPPORTED:
            raise ConfigError(f"{what} needs next-token log-probs in-process: backend "
                              f"{' or '.join(SUPPORTED)} (got {cfg.backend})")
        from synthir.llm.registry import get_llm

        self.template = PromptLibrary(prompts_dir).template(template, {"passage", "query"})
        self.llm: Any = get_llm(cfg)
        yes = sorted({self.llm.first_token(w) for w in YES})
        no = sorted({self.llm.first_token(w) for w in NO})
        if set(yes) & set(no):
            raise ConfigError(f"{what}: {self.llm.model_id} tokenises yes and no to a shared token")
        self.tokens, self.n_yes = yes + no, len(yes)
        self.name = f"llm-judge:{self.llm.model_id}:{template}@{self.template.sha256[:12]}"

    def __call__(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        if not pairs:
            return np.zeros(0, dtype=np.float32)
        order = sorted(range(len(pairs)), key=lambda i: (pairs[i][1], pairs[i][0]))  # shared prefixes together
        prompts = [self.template.render(passage=pairs[i][1], query=pairs[i][0]) for i in order]
        scores = np.zeros(len(pairs), dtype=np.float32)
        for i, lp in zip(order, self.llm.next_token_logprobs(prompts, self.tokens)):
            yes, no = _logsumexp(lp[:self.n_yes]), _logsumexp(lp[self.n_yes:])
            scores[i] = 1.0 / (1.0 + math.exp(no - yes))
        return scores
