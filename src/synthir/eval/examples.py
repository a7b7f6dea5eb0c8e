"""Promptagator's in-domain few-shot examples from your own labelled questions.

Promptagator (Dai et al., 2022, arXiv:2209.11755) prompts with up to 8 (query, passage) pairs
of the target task. When a BEIR dir holds real questions, `synthir examples` draws them from
the **human-train half** of the split `synthir eval --human-split F --human-split-seed S`
uses (the same `default_human_split`), never from its test half, so the evaluation that
follows stays honest. Measured on real questions (docs/results.md §8q): e5-small trained on
the resulting queries beat the copy-penalty recipe's on all four dev sets, +0.017 nDCG@10
pooled over 225 questions.

`spread=True` draws round-robin over the pages' groups (a page id up to its last `/`, e.g.
`fr:gedit` in `fr:gedit/search`) so that one group cannot fill the prompt: with 2 gedit pages
among 8 fixed examples the 1.5B generator wrote "gedit" into 49 queries on document- and
image-viewer pages (docs/results.md §8v). Ids without `/` form one group (a plain draw).

Input: a BEIR dir (corpus.jsonl, queries.jsonl, qrels/). Output: a JSONL `examples_file`
({"passage", "query", "lang"} per line; the page cut to `max_chars` at a word boundary) and
what was drawn.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from synthir.errors import ConfigError, InputError

MAX_EXAMPLES = 8  # Promptagator's limit, and examples_file's per language


def page_group(doc_id: str) -> str:
    """A page's group: its id up to the last `/` (`fr:gedit/search` -> `fr:gedit`), else ``."""
    return doc_id.rsplit("/", 1)[0] if "/" in doc_id else ""


def spread_sample(items: dict[str, str], n: int, rng: random.Random) -> list[str]:
    """Draw `n` keys of `items` (key -> group) round-robin over the groups, in an order and
    with members shuffled by `rng`; every group gives one before any gives a second.
    Output: the drawn keys, in draw order."""
    groups: dict[str, list[str]] = {}
    for key in sorted(items):
        groups.setdefault(items[key], []).append(key)
    order = sorted(groups)
    rng.shuffle(order)
    for g in order:
        rng.shuffle(groups[g])
    picked: list[str] = []
    while len(picked) < min(n, len(items)):
        for g in order:
            if groups[g] and len(picked) < n:
                picked.append(groups[g].pop())
    return picked


def human_train_examples(beir_dir: Path, n: int, dest: Path, fraction: float = 0.5, split_seed: int = 0,
                         seed: int = 0, max_chars: int = 500, lang: str | None = None,
                         spread: bool = False) -> dict[str, Any]:
    """Write `n` (question, page) pairs drawn with random.Random(`seed`) from the human-train
    part (`fraction`, `split_seed`) of the qrels split `synthir eval` scores, one page per
    question, to `dest`.

    `lang`: the examples' language when queries.jsonl has no `lang` field (else it is read).
    `spread`: draw round-robin over the pages' groups (`spread_sample`, `page_group`).
    Output: {"file", "n", "query_ids", "train_queries", "qrels_split", "fraction", "split_seed",
    "spread", "groups"} (`groups`: the drawn examples per page group).
    Raises ConfigError for n outside 1..8, InputError for a BEIR dir without human-train pairs."""
    from synthir.eval.harness import default_human_split
    from synthir.eval.human import human_pairs
    from synthir.io.beir import read_beir

    if not 1 <= n <= MAX_EXAMPLES:
        raise ConfigError(f"--n must be 1..{MAX_EXAMPLES} (Promptagator's limit; got {n})")
    if max_chars < 50:
        raise ConfigError(f"--max-chars must be >= 50 (got {max_chars})")
    beir_dir = Path(beir_dir)
    data = read_beir(beir_dir)
    split, hs = default_human_split(data, beir_dir, fraction, split_seed)
    rows, _ = human_pairs(data, split, hs)
    first: dict[str, dict[str, str]] = {}
    for r in rows:  # one page per question
        first.setdefault(r["query_id"], r)
    if spread:  # the page of each question's first row: its first judged document, in qrels order
        page_of = {q: next(d for d, g in data.qrels[split][q].items() if g > 0 and d in data.corpus) for q in first}
        picked = spread_sample({q: page_group(page_of[q]) for q in first}, n, random.Random(seed))
        drawn = [page_group(page_of[q]) for q in picked]
    else:
        picked = random.Random(seed).sample(sorted(first), min(n, len(first)))
        drawn = []
    langs = {q: data.query_langs.get(q) or lang for q in picked}
    if None in langs.values():
        raise InputError(f"{beir_dir}/queries.jsonl has no `lang` for some questions: pass --lang")
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with dest.open("w", encoding="utf-8") as f:
        for qid in picked:
            page = first[qid]["positive"]
            cut = page if len(page) <= max_chars else page[:max_chars].rsplit(" ", 1)[0] + " …"
            row = {"passage": cut, "query": first[qid]["anchor"], "lang": langs[qid]}
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    return {"file": dest.name, "n": len(picked), "query_ids": picked, "train_queries": len(first),
            "qrels_split": split, "fraction": fraction, "split_seed": split_seed, "spread": spread,
            "groups": {g: drawn.count(g) for g in sorted(set(drawn))}}
