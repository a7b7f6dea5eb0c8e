"""Promptagator's in-domain few-shot examples from your own labelled questions.

Promptagator (Dai et al., 2022, arXiv:2209.11755) prompts with up to 8 (query, passage) pairs
of the target task. When a BEIR dir holds real questions, `synthir examples` draws them from
the **human-train half** of the split `synthir eval --human-split F --human-split-seed S`
uses (the same `default_human_split`), never from its test half, so the evaluation that
follows stays honest. Measured on real questions (docs/results.md §8q): e5-small trained on
the resulting queries beat the copy-penalty recipe's on all four dev sets, +0.017 nDCG@10
pooled over 225 questions.

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


def human_train_examples(beir_dir: Path, n: int, dest: Path, fraction: float = 0.5, split_seed: int = 0,
                         seed: int = 0, max_chars: int = 500, lang: str | None = None) -> dict[str, Any]:
    """Write `n` (question, page) pairs drawn with random.Random(`seed`) from the human-train
    part (`fraction`, `split_seed`) of the qrels split `synthir eval` scores, one page per
    question, to `dest`.

    `lang`: the examples' language when queries.jsonl has no `lang` field (else it is read).
    Output: {"file", "n", "query_ids", "train_queries", "qrels_split", "fraction", "split_seed"}.
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
    picked = random.Random(seed).sample(sorted(first), min(n, len(first)))
    langs = {q: data.query_langs.get(q) or lang for q in picked}
    if None in langs.values():
        raise InputError(f"{beir_dir}/queries.jsonl has no `lang` for some questions: pass --lang")
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with dest.open("w", encoding="utf-8") as f:
        for qid in picked:
            page = first[qid]["positive"]
            # Not sampling.prompt_passage's cut (any whitespace, hard cut under half): this one
            # is in the few-shot files of every recorded draw, and changing it would change them.
            cut = page if len(page) <= max_chars else page[:max_chars].rsplit(" ", 1)[0] + " …"
            row = {"passage": cut, "query": first[qid]["anchor"], "lang": langs[qid]}
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    return {"file": dest.name, "n": len(picked), "query_ids": picked, "train_queries": len(first),
            "qrels_split": split, "fraction": fraction, "split_seed": split_seed}
