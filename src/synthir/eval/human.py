"""The human arm: fine-tune the same student on human-judged pairs of the BEIR dir itself.

The judged queries of one qrels split are split by a hash of (seed, query id): a stable
`fraction` of them is the human-train part, the rest the test part. The human arm trains on
(query, relevant document) pairs of the train part; base, synthetic and human are all scored
on the test part only. No test query is ever trained on: the split is checked to be disjoint,
and a train query whose text equals a test query's text (duplicate queries under two ids) is
dropped from training.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from synthir.errors import ConfigError, InputError
from synthir.eval.retrieval import doc_text
from synthir.eval.unseen import norm
from synthir.io.beir import BeirData


@dataclass(frozen=True)
class HumanSplit:
    """Query ids of the human-train part and of the test part (disjoint, in qrels order)."""

    train: list[str]
    test: list[str]


def in_human_train(qid: str, fraction: float, seed: int) -> bool:
    """True for a stable `fraction` share of query ids (sha256 of "seed:qid"), independent of
    the other queries of the file."""
    h = int.from_bytes(hashlib.sha256(f"{seed}:{qid}".encode()).digest()[:8], "big")
    return h / 2**64 < fraction


def split_queries(qids: Iterable[str], fraction: float, seed: int = 0) -> HumanSplit:
    """Split judged query ids into human-train / test (see module doc).

    Inputs: `qids`, the judged queries; `fraction` in (0, 1), the human-train share; `seed`.
    Output: HumanSplit; raises InputError when either part would be empty."""
    if not 0.0 < fraction < 1.0:
        raise ConfigError(f"--human-split must be a fraction in (0, 1) (got {fraction})")
    qids = list(qids)
    train = [q for q in qids if in_human_train(q, fraction, seed)]
    test = [q for q in qids if not in_human_train(q, fraction, seed)]
    if not train or not test:
        raise InputError(f"--human-split {fraction} leaves {len(train)} train and {len(test)} test "
                         f"queries of {len(qids)} judged: use more queries or another fraction")
    check_disjoint(train, test)
    return HumanSplit(train=train, test=test)


def check_disjoint(train_qids: Iterable[str], test_qids: Iterable[str]) -> None:
    """Raise AssertionError (even under `python -O`) when a test query would be trained on."""
    leaked = set(train_qids) & set(test_qids)
    if leaked:
        raise AssertionError(f"test queries in the training data: {sorted(leaked)[:5]}")


def human_pairs(data: BeirData, qrels_split: str, split: HumanSplit) -> tuple[list[dict[str, str]], int]:
    """Training pairs of the human-train part.

    Inputs: the BEIR data, the qrels split judged, the HumanSplit.
    Output: ([{"query_id", "anchor", "positive"}], dropped) with one row per (train query,
    document judged > 0) in qrels order, the document as retrieval encodes it (`title. text`);
    `dropped` counts train queries left out because their text is also a test query's."""
    test_texts = {norm(data.queries[q]) for q in split.test if q in data.queries}
    rows: list[dict[str, str]] = []
    dropped = 0
    for qid in split.train:
        text = data.queries.get(qid)
        if text is None:
            continue
        if norm(text) in test_texts:
            dropped += 1
            continue
        for did, grade in data.qrels[qrels_split].get(qid, {}).items():
            if grade > 0 and did in data.corpus:
                rows.append({"query_id": qid, "anchor": text, "positive": doc_text(data.corpus[did])})
    check_disjoint((r["query_id"] for r in rows), split.test)
    if not rows:
        raise InputError(f"the human-train part ({len(split.train)} queries) has no judged document "
                         "in corpus.jsonl to train on")
    return rows, dropped


def shown_pairs(rows: list[dict[str, str]], shown: set[str]) -> list[dict[str, str]]:
    """The human-train pairs of the questions the generator was shown (`synthir eval
    --train-shown`): Promptagator (Dai et al. 2022) prompts with up to 8 labelled in-domain
    examples, so training on them too uses no label beyond those.

    Inputs: `rows`, `human_pairs`' rows (train part only, test-text duplicates dropped);
    `shown`, the normalised shown questions (eval/unseen.py `read_shown`).
    Output: the rows whose question is shown, in their order. InputError (one line) when a shown
    question is no human-train question of this split: it may be a test question, and training
    on it would score the synthetic arm on what it was taught; InputError for an empty file."""
    if not shown:
        raise InputError("--train-shown: the examples file holds no question to train on")
    out = [r for r in rows if norm(r["anchor"]) in shown]
    missing = shown - {norm(r["anchor"]) for r in out}
    if missing:
        raise InputError(f"--train-shown: {len(missing)} of the {len(shown)} shown questions are not human-train "
                         f"questions of this split (e.g. {sorted(missing)[0]!r}); write the examples from the same "
                         "--human-split and --human-split-seed (`synthir examples`)")
    return out
