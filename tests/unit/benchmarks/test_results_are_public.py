"""Committed benchmark results and docs hold no local absolute path (the brief: nothing
published carries a local path). Guards every file under benchmarks/results/ and docs/."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
LOCAL = re.compile(r"(?<![\w.])/(?:tmp|work|root|home|Users)/[^\s\"'`)]+")


def test_no_local_absolute_path_in_results_or_docs():
    files = [p for d in ("benchmarks/results", "docs") for p in (REPO / d).rglob("*")
             if p.is_file() and p.suffix in {".json", ".jsonl", ".md", ".txt", ".csv"}]
    assert len(files) > 10
    hits = [f"{p.relative_to(REPO)}: {m.group(0)}" for p in files
            for m in LOCAL.finditer(p.read_text(encoding="utf-8", errors="replace"))]
    assert not hits, hits[:10]


def test_the_pattern_catches_local_paths():
    assert LOCAL.search('"model_path": "/tmp/synthir-x/cache/models/m.gguf"')
    assert LOCAL.search("corpus at /home/me/data.jsonl")
    assert not LOCAL.search("see https://example.org/tmp/x and docs/results.md")
