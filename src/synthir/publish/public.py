"""No path of the user's machine in what is published: the card's run config, provenance and
model names carry paths relative to the working directory (when under it) or basenames.

`public_path(s)` maps one absolute path string; `public_text(s)` maps every absolute path
inside a string (a model id such as `/home/me/models/x.gguf`, `st:/data/model:tag`; URLs are
left alone); `public_config(data)` applies `public_text` to every string of a JSON-like value
(the run config: corpus.path, output.dir, prompts_dir, model dirs, eval sets, ...; the
funnel).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

_ABS = re.compile(r"(?<![\w./~])(?:~/|/(?!/)|\b[A-Za-z]:[\\/])[^\s\"'<>|]+")


def public_path(value: str) -> str:
    """`value` relative to the current directory when it is an absolute path under it, its
    basename when elsewhere (home, /tmp, ...), unchanged when not an absolute path."""
    if not value or not (os.path.isabs(value) or value.startswith("~") or re.match(r"^[A-Za-z]:[\\/]", value)):
        return value
    path = Path(os.path.expanduser(value))
    cwd = Path.cwd()
    try:
        if path.is_relative_to(cwd):
            return path.relative_to(cwd).as_posix() or "."
    except ValueError:
        pass
    return path.name or value


def public_text(text: str) -> str:
    """Every absolute path inside `text` through `public_path` (URLs are left alone)."""
    return _ABS.sub(lambda m: public_path(m.group(0)), text)


def public_config(data: Any) -> Any:
    """A copy of a JSON-like value with `public_text` applied to every string in it."""
    if isinstance(data, dict):
        return {k: public_config(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [public_config(v) for v in data]
    if isinstance(data, str):
        return public_text(data)
    return data
