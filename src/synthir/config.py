"""Load a YAML run config (following `extends: base.yaml` chains), apply `--set dotted.key=value`
overrides (list items by index: `generation.queries[0].num_queries=8`), validate to RunConfig."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from data_schemas.config import RunConfig
from synthir.errors import ConfigError


_PART = re.compile(r"^([^.\[\]]+)((?:\[\d+\])*)$")


def _key_parts(item: str, key: str) -> list[str | int]:
    """`a.b[0].c` -> ["a", "b", 0, "c"]; ConfigError for an empty or malformed key."""
    parts: list[str | int] = []
    for piece in key.split("."):
        m = _PART.match(piece)
        if not m:
            raise ConfigError(f"--set {item!r}: malformed key {key!r} (e.g. generation.queries[0].num_queries)")
        parts.append(m.group(1))
        parts.extend(int(i) for i in re.findall(r"\[(\d+)\]", m.group(2)))
    return parts


def parse_override(item: str) -> tuple[list[str | int], Any]:
    """Split `a.b[0].c=value` into (["a", "b", 0, "c"], yaml-parsed value)."""
    if "=" not in item:
        raise ConfigError(f"--set {item!r}: expected dotted.key=value")
    key, raw = item.split("=", 1)
    if not key.strip() or any(not p for p in key.strip().split(".")):
        raise ConfigError(f"--set {item!r}: empty key")
    parts = _key_parts(item, key.strip())
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError as exc:
        raise ConfigError(f"--set {key}: value is not valid YAML ({exc.__class__.__name__})") from None
    return parts, value


def _dotted(parts: list[str | int]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else (f".{p}" if i else p) for i, p in enumerate(parts))


def _child(item: str, node: Any, parts: list[str | int], i: int, make: bool) -> Any:
    """The container at parts[i] inside `node` (created as {} / [] when missing and `make`)."""
    p = parts[i]
    here = _dotted(parts[:i]) or "<root>"
    if isinstance(p, int):
        if not isinstance(node, list):
            raise ConfigError(f"--set {item}: {here} is not a list")
        if p > len(node):
            raise ConfigError(f"--set {item}: {here} has {len(node)} entries; index [{p}] is out of "
                              f"range (use [{len(node)}] to add one)")
        if p == len(node):
            node.append({})
        return node
    if isinstance(node, list):
        hint = f"{here}[{p}]" if p.isdigit() else f"{here}[0].{p}"
        raise ConfigError(f"--set {item}: {here} is a list; index it as {hint}")
    if not isinstance(node, dict):
        raise ConfigError(f"--set {item}: {here} is not a mapping")
    if make and node.get(p) is None:
        node[p] = [] if isinstance(parts[i + 1], int) else {}
    return node


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Return a copy of `data` with each `dotted.key=value` override set (dicts and lists
    created; a list index may be one past the end to add an entry)."""
    out = yaml.safe_load(yaml.safe_dump(data)) or {}
    for item in overrides:
        parts, value = parse_override(item)
        node: Any = out
        for i in range(len(parts) - 1):
            node = _child(item, node, parts, i, make=True)[parts[i]]
        _child(item, node, parts, len(parts) - 1, make=False)[parts[-1]] = value
    return out


def format_validation_error(exc: ValidationError) -> str:
    """One line per problem, each naming the dotted key."""
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in err["loc"])
        loc = loc.replace(".[", "[")
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        lines.append(f"{loc or '<root>'}: {msg}")
    return "; ".join(lines)


def validate_config(data: dict[str, Any]) -> RunConfig:
    """Validate a config mapping; raise ConfigError naming the offending keys."""
    try:
        cfg = RunConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"invalid config: {format_validation_error(exc)}") from None
    from synthir.embed.registry import embedder_names
    from synthir.llm.judge import SUPPORTED as LOGPROB_BACKENDS
    from synthir.llm.registry import backend_names, check_options

    for key, llm in (("llm", cfg.llm), ("judge.llm", cfg.judge.llm), ("teacher.llm", cfg.teacher.llm)):
        if llm is None:
            continue
        if llm.backend not in backend_names():
            raise ConfigError(f"invalid config: {key}.backend: unknown backend {llm.backend!r} "
                              f"(known: {', '.join(backend_names())})")
        check_options(llm, key)
    if cfg.judge.enabled and cfg.judge.kind == "yes_no" and (cfg.judge.llm or cfg.llm).backend not in LOGPROB_BACKENDS:
        raise ConfigError(f"invalid config: judge.kind yes_no needs next-token log-probs in-process: "
                          f"{'judge.llm' if cfg.judge.llm else 'llm'}.backend "
                          f"{' or '.join(LOGPROB_BACKENDS)} (or judge.kind chat)")
    from synthir.llm.base import LOGIT_BIAS_BACKENDS

    for i, m in enumerate(cfg.generation.queries):
        if m.copy_penalty and cfg.llm.backend not in LOGIT_BIAS_BACKENDS:  # like json_schema: where it can
            logging.getLogger("synthir").warning(
                "generation.queries[%d].copy_penalty is not applied: backend %s takes no per-prompt logit "
                "bias (%s does); the records' provenance.sampling has no logit_penalty", i, cfg.llm.backend,
                " or ".join(LOGIT_BIAS_BACKENDS))
    if cfg.embedder.name not in embedder_names():
        raise ConfigError(f"invalid config: embedder.name: unknown embedder {cfg.embedder.name!r} "
                          f"(known: {', '.join(embedder_names())})")
    from synthir.redact import register_config

    register_config(cfg)  # the API key and hub token are masked in every message from now on
    return cfg


def merge_config(base: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    """`child` laid over `base`: mappings merge key by key, recursively; anything else in `child`
    (a list, a scalar, null) replaces `base`'s value whole. Neither input is modified."""
    out = dict(base)
    for key, value in child.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge_config(out[key], value)
        else:
            out[key] = value
    return out


def _read_mapping(p: Path) -> dict[str, Any]:
    if not p.is_file():
        raise ConfigError(f"config file not found: {p}")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {p} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"config file {p}: top level must be a mapping")
    return data


def read_config(path: str | Path, _chain: tuple[Path, ...] = ()) -> dict[str, Any]:
    """The YAML mapping at `path`, with its `extends:` chain resolved: `extends: base.yaml` (a
    path relative to this file's folder) loads that config first and lays this one over it
    (`merge_config`); the base may extend another. A cycle or a bad `extends` is a ConfigError."""
    p = Path(path)
    data = _read_mapping(p)
    if "extends" not in data:
        return data
    parent = data.pop("extends")
    if not isinstance(parent, str) or not parent.strip():
        raise ConfigError(f"config file {p}: extends must be the path of another config file")
    base = (p.parent / parent).resolve()
    chain = (*_chain, p.resolve())
    if base in chain:
        raise ConfigError(f"config file {p}: extends {parent} makes a cycle "
                          f"({' -> '.join(c.name for c in (*chain, base))})")
    return merge_config(read_config(base, chain), data)


def load_config(path: str | Path, overrides: list[str] | None = None,
                out: str | Path | None = None) -> RunConfig:
    """Read YAML at `path` (its `extends:` chain resolved, `read_config`), apply overrides (and
    `out` as output.dir), return a RunConfig.

    Relative `corpus.path` values are resolved against the current directory.
    """
    data = apply_overrides(read_config(path), list(overrides or []))
    if out is not None:  # set verbatim: a path is not parsed as YAML
        output = data.setdefault("output", {})
        if not isinstance(output, dict):
            raise ConfigError("invalid config: output: must be a mapping")
        output["dir"] = str(out)
    return validate_config(data)

