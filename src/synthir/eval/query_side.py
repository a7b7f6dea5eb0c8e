"""Query-side fine-tuning: train only the query encoder; passages keep the base's embeddings
(`TrainOptions.query_side`, `synthir eval --query-side`).

`asymmetric(model)` turns a SentenceTransformer into a two-tower model with sentence-transformers'
`Router`: the "query" route is the student (trained), the "document" route a frozen copy of it as
it is now (eval/freeze.py's `frozen_copy`, held in eval mode while the trainer switches the
model to train mode, so no dropout reaches it). The trainer routes the query columns (`anchor`,
`query`) through the first and the passage columns (`positive`, `negative`) through the second
(`ROUTES`, the trainer's `router_mapping`); MNRL is unchanged. The passage tower takes no
gradient, so a training step runs its forward only: on a CPU most of a step's work is the long
passages, the queries being a few words.

Why: a user who fine-tunes keeps the corpus index built with the base (every passage embedding
stays valid, only queries are encoded by the new model), and the passages' geometry, where
base already ranks most questions first (set 2, docs/results.md §8af), is untouched. It is
query-side fine-tuning as in DensePhrases (Lee et al., 2021, arXiv:2012.12624), where the
phrase index stays fixed while the question encoder adapts to a new domain; asymmetric towers in
general are studied by Dong et al. (2022, arXiv:2204.07120). Measured (docs/results.md §8br,
e5-small, 3 seeds): steps about 3x faster on 2 CPU cores, but the students are worse than
with both towers trained (-0.023 nDCG@10 on Spanish set 2, -0.015 on the program FAQs) and
keep fewer of base's first hits, not more. So it is not the default.

The saved model is a plain sentence-transformers model with a Router: `encode_query` uses the
trained tower, `encode_document` (and `encode`, its default route) the base's. synthir's own
encoders (eval/retrieval.py, embed/st.py) pass the task, so the same dir works as a student and
as `embedder.model`.

Inputs: a SentenceTransformer. Outputs: the asymmetric SentenceTransformer (shares the student's
modules; the document tower a copy), `transformer_modules(model)` for the chunked forwards.
"""

from __future__ import annotations

import types
from typing import Any

from synthir.eval.freeze import frozen_copy

# trainer column -> Router task (columns not named here take the Router's default, "document")
ROUTES = {"anchor": "query", "query": "query", "positive": "document", "negative": "document"}


def _stay_in_eval(self: Any, mode: bool = True) -> Any:
    """`train()` for the frozen tower's modules: it stays in eval mode (no dropout)."""
    return self


def router_of(model: Any) -> Any | None:
    """The model's Router module (its first module), or None for a one-tower model."""
    from sentence_transformers.base.modules.router import Router

    try:
        first = model[0]
    except (TypeError, IndexError):  # not a module list (or an empty one): one tower
        return None
    return first if isinstance(first, Router) else None


def asymmetric(model: Any) -> Any:
    """A two-tower SentenceTransformer: queries through `model`'s modules (trained), documents
    through a frozen copy of them as they are now (module docstring)."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.base.modules.router import Router

    if router_of(model) is not None:
        raise ValueError("the model already routes queries and documents; query-side training needs a one-tower model")
    documents = frozen_copy(model)
    for module in documents:
        module.train = types.MethodType(_stay_in_eval, module)
    router = Router.for_query_document(query_modules=list(model), document_modules=list(documents))
    two = SentenceTransformer(modules=[router], device=str(model.device))
    two.prompts, two.default_prompt_name = dict(model.prompts), model.default_prompt_name
    return two


def transformer_modules(model: Any) -> list[Any]:
    """The first (token-embedding) module of each tower: `model[0]`, or a Router's query and
    document routes' first modules (eval/train.py runs them in length-sorted chunks)."""
    router = router_of(model)
    if router is None:
        return [model[0]]
    return [router.sub_modules["query"][0], router.sub_modules["document"][0]]
