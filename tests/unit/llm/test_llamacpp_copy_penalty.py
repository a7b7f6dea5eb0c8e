"""The copy penalty on the real embedded Gemma (llama.cpp): a prompt the model answers by
copying its few-shot query, greedy, gets another query with the penalty, and that query uses no
penalised token."""

from __future__ import annotations

import dataclasses

import pytest

from data_schemas.config import LLMConfig
from synthir.llm.base import SamplingParams, penalty_bias

EXAMPLE = "plus haute montagne d'Afrique"
PASSAGE = "Pour imprimer un document, ouvrez le menu et choisissez Imprimer, puis la page."
PROMPT = ("Écrivez une requête de recherche pour le passage.\n\n"
          "Passage: Le Kilimandjaro, au nord de la Tanzanie, culmine à 5 895 mètres.\n"
          f"Requête: {EXAMPLE}\n\n"
          f"Passage: {PASSAGE}\nRequête:")


def test_the_penalty_stops_a_greedy_copy() -> None:
    pytest.importorskip("llama_cpp")
    from synthir.llm.llamacpp_backend import LlamaCppLLM

    llm = LlamaCppLLM(LLMConfig(backend="llamacpp", model="embedded", threads=2, context_length=512))
    greedy = SamplingParams(max_tokens=12, stop=("\n",))
    assert llm.generate([PROMPT], greedy)[0].text.strip() == EXAMPLE  # the model copies
    penalised = dataclasses.replace(greedy, logit_penalty=5.0, avoid=(EXAMPLE,), allow=PASSAGE)
    text = llm.generate([PROMPT], penalised)[0].text.strip()
    assert text and text != EXAMPLE
    tokenize = lambda s: llm.llm.tokenize(s.encode("utf-8"), add_bos=False, special=False)  # noqa: E731
    bias = penalty_bias(tokenize, penalised)
    assert bias and not set(tokenize(" " + text)) & set(bias)
