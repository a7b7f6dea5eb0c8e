"""Seeded passage sampling, stratified by passage language, with length and dedup guards.

One streaming pass (reservoir sampling, Algorithm R per language), memory O(n x languages).
A passage longer than `sample.max_chars` is sampled like any other with `sample.too_long: head`
(prompts show its head: `prompt_passage`; Promptagator and InPars likewise truncate long
documents to the generator's input) and skipped with `skip`.
One passage per duplicate cluster (synthir.dedup) is eligible: the first that passes the
other guards; the others are skipped as duplicate_text (same text) or near_duplicate.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from data_schemas.config import SampleConfig
from data_schemas.records import Passage

_WS = re.compile(r"\s+")


@dataclass
class SampleResult:
    """Sampled passages (sorted by language, id) and the guard counts of the pass."""

    passages: list[Passage]
    seen: int = 0
    skipped: Counter = field(default_factory=Counter)
    available: Counter = field(default_factory=Counter)  # eligible passages per language
    languages: Counter = field(default_factory=Counter)  # every passage seen, per language
    lengths: tuple[int, int] | None = None  # (shortest, longest) text of the wanted languages
    cut: int = 0  # sampled passages longer than max_chars (too_long: head): prompts show their head


def _text_key(text: str) -> bytes:
    return hashlib.blake2b(_WS.sub(" ", text.lower()).strip().encode("utf-8"), digest_size=8).digest()


def _quotas(n: int, langs: list[str], available: Counter) -> dict[str, int]:
    """Split n evenly across langs; shortfall of a small language goes to the others."""
    quota = {lang: 0 for lang in langs}
    remaining = n
    open_langs = [lang for lang in langs if available[lang] > 0]
    while remaining > 0 and open_langs:
        share, extra = divmod(remaining, len(open_langs))
        nxt = []
        for i, lang in enumerate(open_langs):
            want = share + (1 if i < extra else 0)
            take = min(want, available[lang] - quota[lang])
            quota[lang] += take
            remaining -= take
            if quota[lang] < available[lang]:
                nxt.append(lang)
        open_langs = nxt
    return quota


def sample_passages(passages: Iterable[Passage], cfg: SampleConfig, rng: random.Random,
                    cluster_of: dict[str, str] | None = None) -> SampleResult:
    """Draw `cfg.n` passages (seeded by `rng`) from a stream.

    Inputs: an iterable of Passage (streamed once), the SampleConfig, a seeded Random, and
    {passage id: cluster id} of the corpus's duplicate clusters. Output: SampleResult; guard
    skips are counted in `skipped` under too_short_for_sample, too_long_for_sample,
    duplicate_text, near_duplicate and language_not_sampled.
    """
    wanted = set(cfg.languages) if cfg.languages else None
    clusters = cluster_of or {}
    reservoirs: dict[str, list[Passage]] = {}
    available: Counter = Counter()
    skipped: Counter = Counter()
    languages: Counter = Counter()
    seen_text: set[bytes] = set()
    seen_clusters: set[str] = set()
    shortest, longest = None, 0
    seen = 0
    for p in passages:
        seen += 1
        languages[p.lang] += 1
        if wanted is not None and p.lang not in wanted:
            skipped["language_not_sampled"] += 1
            continue
        shortest = len(p.text) if shortest is None else min(shortest, len(p.text))
        longest = max(longest, len(p.text))
        if len(p.text) < cfg.min_chars:
            skipped["too_short_for_sample"] += 1
            continue
        if len(p.text) > cfg.max_chars and cfg.too_long == "skip":
            skipped["too_long_for_sample"] += 1
            continue
        key = _text_key(p.text)
        if key in seen_text:
            skipped["duplicate_text"] += 1
            continue
        cluster = clusters.get(p.id)
        if cluster is not None and cluster in seen_clusters:
            skipped["near_duplicate"] += 1
            continue
        seen_text.add(key)
        if cluster is not None:
            seen_clusters.add(cluster)
        stratum = p.lang if wanted is not None else "*"
        available[stratum] += 1
        res = reservoirs.setdefault(stratum, [])
        if len(res) < cfg.n:
            res.append(p)
        else:
            j = rng.randrange(available[stratum])
            if j < cfg.n:
                res[j] = p
    strata = sorted(cfg.languages) if wanted is not None else ["*"]
    quotas = _quotas(cfg.n, strata, available)
    chosen: list[Passage] = []
    for stratum in strata:
        pool = sorted(reservoirs.get(stratum, []), key=lambda p: p.id)
        chosen.extend(rng.sample(pool, quotas[stratum]) if quotas[stratum] < len(pool) else pool)
    chosen.sort(key=lambda p: (p.lang, p.id))
    return SampleResult(passages=chosen, seen=seen, skipped=skipped, available=available, languages=languages,
                        lengths=(shortest, longest) if shortest is not None else None,
                        cut=sum(len(p.text) > cfg.max_chars for p in chosen))


def prompt_passage(passage: Passage, max_chars: int | None) -> Passage:
    """The passage as a prompt shows it: itself when it has at most `max_chars` characters (or
    `max_chars` is None), else a copy whose text is its first `max_chars` characters, cut back
    to the last whitespace (when that keeps at least half) and ended with " …". Records keep
    the whole passage: only the prompt text is shortened."""
    if max_chars is None or len(passage.text) <= max_chars:
        return passage
    head = passage.text[:max_chars]
    space = max((m.start() for m in _WS.finditer(head)), default=-1)
    if space >= max_chars // 2:
        head = head[:space]
    return passage.model_copy(update={"text": head.rstrip() + " …"})


def empty_sample_message(cfg: SampleConfig, result: SampleResult, detected: bool) -> str:
    """The one line naming why sampling left nothing: the sample.* key at fault and what the
    corpus has, e.g. "sample.languages [en, fr] matched 0 of 120 passages; detected: de 118,
    und 2"."""
    have = ", ".join(f"{lang} {n}" for lang, n in result.languages.most_common())
    total = result.seen
    if cfg.languages and result.skipped["language_not_sampled"] == total:
        return (f"sample.languages [{', '.join(cfg.languages)}] matched 0 of {total} passages; "
                f"{'detected' if detected else 'corpus languages'}: {have}")
    parts = []
    for reason, key in (("too_short_for_sample", f"sample.min_chars={cfg.min_chars}"),
                        ("too_long_for_sample", f"sample.max_chars={cfg.max_chars}"),
                        ("language_not_sampled", f"sample.languages [{', '.join(cfg.languages or [])}]")):
        if result.skipped[reason]:
            parts.append(f"{key}: {result.skipped[reason]} ({reason})")
    span = f"; passage lengths {result.lengths[0]}..{result.lengths[1]} chars" if result.lengths else ""
    return f"sampling left 0 of {total} passages: {', '.join(parts) or 'no passage'}{span}; languages: {have}"
