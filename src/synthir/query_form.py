"""The form of a set of queries: how long they are and how many are questions.

Why: on GNOME help, the real questions are short titles (German 3.6 words, Spanish 4.4; about
10% end in "?"). The same prompt made the 1.5B generator write German questions (6.9 words,
86% "?") but Spanish titles (8.8 words, 9% "?"), and adding SWIM-IR's title-like SAP queries
helped the German student only (docs/results.md §8ai). So a run reports the form of the queries
it kept, per method and language, next to the form of the user's own in-domain examples
(`examples_file`, the target style) when it has them.

Input: query strings. Output: {"n", "words_mean", "words_median", "chars_mean",
"question_share"} (words: whitespace tokens, so for CJK text read `chars_mean`), or None for no
query.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from statistics import mean, median
from typing import Any

from data_schemas.config import RunConfig
from synthir.errors import ConfigError
from synthir.prompting import read_examples

QUESTION_MARKS = ("?", "？", "؟")  # Latin / Spanish, full-width (CJK), Arabic


def form(texts: Iterable[str]) -> dict[str, Any] | None:
    """Length and question share of `texts` (blank ones ignored); None when there are none."""
    kept = [t.strip() for t in texts if t and t.strip()]
    if not kept:
        return None
    words = [len(t.split()) for t in kept]
    return {"n": len(kept), "words_mean": round(mean(words), 2), "words_median": median(words),
            "chars_mean": round(mean(len(t) for t in kept), 1),
            "question_share": round(sum(t.endswith(QUESTION_MARKS) for t in kept) / len(kept), 4)}


def examples_forms(cfg: RunConfig, keys: Iterable[str]) -> dict[str, dict[str, Any] | None]:
    """For each `method/lang` key: the form of that method's `examples_file` rows for the
    language (rows with that `lang` or none), from the first query method of that name with an
    examples_file; keys without one are left out. A file that cannot be read any more (the run
    published elsewhere) maps to None: the report is about the run, not a check of the config."""
    rows: dict[str, list[dict[str, Any]] | None] = {}
    for m in cfg.generation.queries:
        if m.examples_file and m.method not in rows:
            try:
                rows[m.method] = read_examples(Path(m.examples_file))[0]
            except (ConfigError, OSError, UnicodeDecodeError):  # moved, removed or rewritten since
                rows[m.method] = None
    out: dict[str, dict[str, Any] | None] = {}
    for key in keys:
        method, _, lang = key.partition("/")
        if method in rows:
            pool = rows[method]
            out[key] = None if pool is None else form(
                str(r.get("query", "")) for r in pool if r.get("lang") in (None, lang))
    return out


def describe(f: dict[str, Any]) -> str:
    """'6.9 words (median 6), 48 chars, 86% end in "?"' for the summary and the card."""
    return (f"{f['words_mean']:.1f} words (median {f['words_median']:g}), {f['chars_mean']:.0f} chars, "
            f"{100 * f['question_share']:.0f}% end in \"?\"")
