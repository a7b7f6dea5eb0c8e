"""Prompt library: Jinja templates under `prompts/`, loaded with StrictUndefined.

Each template's variables are checked against what its generator provides when it is loaded
(and, for objects such as `passage`, the attributes it reads: `{{ passage.foo }}` fails at
load, before any LLM call), and its sha256 (and that of its few-shot example file) goes into
every record's provenance. Template and example paths must stay inside the prompts directory
(checked before anything is read). No prompt text lives in Python code.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import meta, nodes

from synthir.errors import ConfigError

_WS = re.compile(r"\s+")


class TemplateRenderError(ConfigError, jinja2.UndefinedError):
    """A template used something undefined while rendering: a config error (one line, exit
    2, never retried), still a jinja2.UndefinedError for callers that catch that."""


def default_prompts_dir() -> Path:
    """`$SYNTHIR_PROMPTS_DIR`, else the repository's `prompts/` folder."""
    env = os.environ.get("SYNTHIR_PROMPTS_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "prompts"


def oneline(text: str) -> str:
    """Collapse all whitespace (newlines included) to single spaces: keeps prompts line-based."""
    return _WS.sub(" ", str(text)).strip()


@dataclass(frozen=True)
class Template:
    """A loaded template: render(**vars) -> str, plus its name, sha256 and variables."""

    name: str
    source: str
    sha256: str
    variables: frozenset[str]
    _tpl: jinja2.Template

    def render(self, **variables: Any) -> str:
        """Render with StrictUndefined: a missing variable or attribute raises
        TemplateRenderError (a ConfigError and a jinja2.UndefinedError) naming the template."""
        try:
            return self._tpl.render(**variables)
        except jinja2.UndefinedError as exc:
            raise TemplateRenderError(f"prompt template {self.name}: {exc.message}") from None


class PromptLibrary:
    """Loads templates and few-shot example files from one prompts directory."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root else default_prompts_dir()
        if not self.root.is_dir():
            raise ConfigError(f"prompts directory not found: {self.root} "
                              "(set generation.prompts_dir or SYNTHIR_PROMPTS_DIR)")
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(self.root)),
            undefined=jinja2.StrictUndefined,
            autoescape=False,
            keep_trailing_newline=False,
        )
        self.env.filters["oneline"] = oneline
        self.env.filters["json"] = lambda v: json.dumps(v, ensure_ascii=False)

    def template(self, name: str, provided: set[str] | frozenset[str],
                 attributes: Mapping[str, Collection[str]] | None = None) -> Template:
        """Load template `name`; raise ConfigError if it (or a file it includes) uses a variable
        not in `provided`, or reads from an object in `attributes` ({variable: its attribute
        names}, e.g. passage -> id, text, title, lang) an attribute it does not have. Its
        sha256 is that of the file, or, when it includes other files, of the file and each
        included file (name and text), so an edit to either is seen."""
        sources = self._sources(name, set())
        used: set[str] = set()
        for src_name, source in sources:
            try:
                ast = self.env.parse(source)
            except jinja2.TemplateSyntaxError as exc:
                raise ConfigError(f"prompt template {src_name}: syntax error line {exc.lineno}: "
                                  f"{exc.message}") from None
            used |= meta.find_undeclared_variables(ast)
            for var, attr in sorted(_attribute_reads(ast, set(attributes or {}))):
                if attr not in (attributes or {})[var]:
                    raise ConfigError(f"prompt template {src_name} reads {var}.{attr}, which is "
                                      f"undefined; {var} has {sorted((attributes or {})[var])}")
        unknown = sorted(used - set(provided))
        if unknown:
            raise ConfigError(f"prompt template {name} uses undefined variables {unknown}; "
                              f"available: {sorted(provided)}")
        source = sources[0][1]
        if len(sources) == 1:
            sha = hashlib.sha256(source.encode("utf-8")).hexdigest()
        else:
            h = hashlib.sha256()
            for src_name, text in sources:
                h.update(f"{src_name}\n{len(text)}\n{text}".encode("utf-8"))
            sha = h.hexdigest()
        return Template(name=name, source=source, sha256=sha, variables=frozenset(used),
                        _tpl=self.env.get_template(name))

    def _inside(self, name: str, what: str) -> Path:
        """`root / name`, or ConfigError (before anything is read) when `name` is absolute,
        climbs out of the prompts directory or resolves out of it through a symlink."""
        rel = Path(name)
        if rel.is_absolute() or rel.drive or os.path.normpath(rel).split(os.sep)[0] == os.pardir \
                or not (self.root / rel).resolve().is_relative_to(self.root.resolve()):  # a symlink out
            raise ConfigError(f"{what} {name!r} is outside the prompts directory {self.root}; give "
                              "a path inside it (or point generation.prompts_dir elsewhere)")
        return self.root / rel

    def _sources(self, name: str, seen: set[str]) -> list[tuple[str, str]]:
        """[(name, text)] of `name` and, recursively, the templates it includes."""
        path = self._inside(name, "prompt template")
        if not path.is_file():
            raise ConfigError(f"prompt template not found: {path}")
        seen.add(name)
        source = path.read_text(encoding="utf-8")
        out = [(name, source)]
        try:
            refs = meta.find_referenced_templates(self.env.parse(source))
        except jinja2.TemplateSyntaxError as exc:
            raise ConfigError(f"prompt template {name}: syntax error line {exc.lineno}: "
                              f"{exc.message}") from None
        for ref in refs:
            if ref is None:
                raise ConfigError(f"prompt template {name}: includes must name a fixed file")
            if ref not in seen:
                out.extend(self._sources(ref, seen))
        return out

    def examples(self, relpath: str) -> tuple[list[dict[str, Any]], str]:
        """Read a JSONL few-shot example file of the library; return (examples, sha256 of the file)."""
        return read_examples(self._inside(relpath, "few-shot example file"))


def _attribute_reads(ast: nodes.Template, objects: set[str]) -> set[tuple[str, str]]:
    """(variable, attribute) for every `var.attr` / `var["attr"]` read of a variable in
    `objects` (variables the template assigns itself, e.g. loop targets, are skipped)."""
    assigned = {n.name for n in ast.find_all(nodes.Name) if n.ctx in ("store", "param")}
    out: set[tuple[str, str]] = set()
    for node in ast.find_all((nodes.Getattr, nodes.Getitem)):
        target = node.node
        if not isinstance(target, nodes.Name) or target.name not in objects - assigned:
            continue
        if isinstance(node, nodes.Getattr):
            out.add((target.name, node.attr))
        elif isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
            out.add((target.name, node.arg.value))
    return out


def read_examples(path: Path) -> tuple[list[dict[str, Any]], str]:
    """Read a JSONL few-shot example file (one JSON object a line); return (rows, sha256 of the
    file). ConfigError (one line, naming file and line) when missing or malformed."""
    if not path.is_file():
        raise ConfigError(f"few-shot example file not found: {path}")
    raw = path.read_bytes()
    rows = []
    for i, line in enumerate(raw.decode("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}:{i}: invalid JSON ({exc.msg})") from None
        if not isinstance(obj, dict):
            raise ConfigError(f"{path}:{i}: each example must be a JSON object")
        rows.append(obj)
    return rows, hashlib.sha256(raw).hexdigest()
