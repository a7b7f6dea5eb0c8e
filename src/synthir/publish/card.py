"""The dataset card (README.md): YAML `configs:` for `load_dataset`, the run config, model,
prompt files + sha256, the corpus (documents -> passages, detected languages, duplicate
clusters) and the per-stage / per-language funnel. No path of the user's machine appears in
it (synthir.publish.public)."""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path
from typing import Any

import jinja2
import yaml

from data_schemas.config import RunConfig
from synthir.publish.public import public_config, public_path, public_text
from synthir.query_form import describe

_TEMPLATES = Path(__file__).parent / "templates"


def card_header(cfg: RunConfig, files: dict[str, dict[str, str]]) -> str:
    """The YAML front matter: one `configs:` entry per published config (pairs is default),
    each naming its exact data file per split."""
    default = "pairs" if "pairs" in files else next(iter(files), None)
    meta: dict[str, Any] = {
        "configs": [{"config_name": name,
                     "data_files": [{"split": s, "path": path} for s, path in split_files.items()],
                     **({"default": True} if name == default else {})} for name, split_files in files.items()],
        "license": cfg.output.license,
        "language": sorted(set(cfg.languages) | set(cfg.sample.languages or [])),
        "task_categories": ["text-retrieval"],
        "tags": ["synthir", "synthetic", "information-retrieval"],
        "pretty_name": cfg.output.pretty_name or cfg.name,
    }
    return "---\n" + yaml.safe_dump(meta, sort_keys=False, allow_unicode=True) + "---\n"


def _prompt_files(work: Path) -> list[dict[str, str]]:
    meta = json.loads((work / "config.json").read_text(encoding="utf-8"))
    return [{"file": k, "sha256": v} for k, v in sorted(meta.get("prompt_sha256", {}).items())]


def render_card(cfg: RunConfig, funnel: dict[str, Any], rows: dict[str, int],
                splits: dict[str, dict[str, int]], files: dict[str, dict[str, str]]) -> str:
    """Render README.md for the published dataset: `rows` {config: n}, `splits` {config:
    {split: n}}, `files` {config: {split: path}} (published configs only)."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(_TEMPLATES)),
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    env.filters["public"] = public_text
    env.filters["form"] = describe
    body = env.get_template("card.md.j2").render(
        cfg=cfg, funnel=public_config(funnel), rows=rows, splits=splits, published=files,
        repo=cfg.output.hub.repo_id or public_path(str(cfg.output.dir)),
        prompts=_prompt_files(Path(cfg.output.dir) / ".synthir"),
        config_yaml=yaml.safe_dump(public_config(cfg.model_dump(mode="json")), sort_keys=False,
                                   allow_unicode=True),
        synthir_version=version("synthir"),
    )
    return card_header(cfg, files) + body

