"""The rows `synthir eval` trains on, read from one or several published synthir datasets.

Inputs: dataset dirs as `synthir publish` writes them (README.md card + parquet files per config)
and TrainOptions (loss, config, split, max_rows). Outputs: datasets.Dataset rows per loss:
- MNRL / GIST rows: the `triplets` config (anchor, positive, negative), or `pairs` renamed to
  (anchor, positive);
- MarginMSE rows (Hofstätter et al., 2020, arXiv:2010.02666): the `distill` config (query,
  positive, negative, label = teacher(q, pos) - teacher(q, neg)), published by the teacher stage
  (GPL, Wang et al., 2022).
`--max-train-rows` keeps a seeded, nested sample of each dataset's rows (cap_rows). Every error is
one line: InputError for a dataset that cannot be read, ConfigError for a set of datasets that
cannot train one student.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from synthir.errors import ConfigError, InputError
from synthir.eval.train import PAIR_LOSSES, TrainOptions

DISTILL_COLUMNS = ["query", "positive", "negative", "label"]
SUBSAMPLE_SEED = 0  # --max-train-rows draws its rows with this seed, whatever the training seed


def _card(dataset_dir: Path) -> str:
    """The dataset card's text; InputError (one line) when `dataset_dir` has none."""
    readme = Path(dataset_dir) / "README.md"
    if not readme.is_file():
        raise InputError(f"{dataset_dir} is not a published synthir dataset (no README.md)")
    return readme.read_text(encoding="utf-8")


def _published(dataset_dir: Path) -> set[str]:
    card = _card(dataset_dir)
    return {c for c in ("triplets", "pairs", "distill") if f"config_name: {c}\n" in card}


def load_config(dataset_dir: Path, config: str, split: str) -> Any:
    """`config`'s `split` of a published dataset (datasets.Dataset), read from the parquet files
    its card's `configs:` names, with the packaged parquet loader. Not `load_dataset(dir,
    config)`: that caches a local dataset by its dir name and card, so a parquet file rewritten
    in place under the same name (rows dropped by hand) would train on the rows cached before
    (datasets 5.2); the parquet loader's cache key includes each file's mtime. InputError (one
    line) when the card names no file for the split or a named file is missing."""
    import yaml
    from datasets import load_dataset

    dataset_dir = Path(dataset_dir)
    card = _card(dataset_dir)
    head = card.split("---", 2)
    try:
        meta = yaml.safe_load(head[1]) if card.startswith("---") and len(head) == 3 else None
    except yaml.YAMLError as e:
        raise InputError(f"{dataset_dir}/README.md: its YAML header does not parse ({str(e).splitlines()[0]})") from None
    entry = next((c for c in (meta or {}).get("configs") or []
                  if isinstance(c, dict) and c.get("config_name") == config), {})
    paths: list[str] = []
    for f in entry.get("data_files") or []:
        if isinstance(f, dict) and f.get("split") == split:
            paths += [f["path"]] if isinstance(f["path"], str) else list(f["path"])
    files = sorted(str(m) for pat in paths for m in (dataset_dir.glob(pat) if "*" in pat else [dataset_dir / pat]))
    if not files:
        raise InputError(f"{dataset_dir}/README.md names no `{split}` file for the `{config}` config")
    missing = [f for f in files if not Path(f).is_file()]
    if missing:
        raise InputError(f"{dataset_dir}: the `{config}` file {Path(missing[0]).relative_to(dataset_dir)} is missing")
    return load_dataset("parquet", data_files={split: files}, split=split)


def pair_config(dataset_dir: Path, opts: TrainOptions) -> str:
    """The config MNRL / GIST train on in `dataset_dir` (`opts.config`; auto: triplets when
    published, else pairs), from its card alone; InputError when it is not published."""
    published = _published(dataset_dir)
    config = opts.config if opts.config != "auto" else ("triplets" if "triplets" in published else "pairs")
    if config not in published:
        raise InputError(f"{dataset_dir} has no `{config}` config to train on (published: "
                         f"{', '.join(sorted(published)) or 'none'})")
    return config


def _require_distill(dataset_dir: Path) -> None:
    if "distill" not in _published(dataset_dir):
        raise InputError(f"{dataset_dir} has no `distill` config for --loss marginmse: generate it with "
                         "`teacher.enabled: true` (and mining.num_negatives > 0): the teacher stage publishes "
                         "query, positive, negative, label")


def training_rows(dataset_dir: Path, opts: TrainOptions) -> tuple[Any, str]:
    """MNRL rows: (datasets.Dataset with columns anchor, positive[, negative], config used)."""
    config = pair_config(dataset_dir, opts)
    ds = load_config(dataset_dir, config, opts.split)
    if config == "pairs":
        ds = ds.select_columns(["query", "positive"]).rename_column("query", "anchor")
    if len(ds) == 0:
        raise InputError(f"{dataset_dir}: the `{config}` {opts.split} split has no rows")
    return cap_rows(ds, opts.max_rows), config


def cap_rows(ds: Any, max_rows: int) -> Any:
    """`ds` itself when `max_rows` is 0 or not below its length; else the first `max_rows` rows of
    one fixed seeded shuffle (SUBSAMPLE_SEED), kept in their published order. The sample does not
    depend on the training seed, so every seed of a run trains on the same rows, and caps are
    nested: a smaller cap's rows are a subset of a larger one's (a learning curve adds rows)."""
    if max_rows <= 0 or max_rows >= len(ds):
        return ds
    order = list(range(len(ds)))
    random.Random(SUBSAMPLE_SEED).shuffle(order)
    keep = sorted(order[:max_rows])
    return ds.select(keep)


def distill_rows(dataset_dir: Path, split: str = "train", max_rows: int = 0) -> Any:
    """MarginMSE rows of the `distill` config: datasets.Dataset with columns query, positive,
    negative, label (float), at most `max_rows` of them (cap_rows; 0: all). InputError when the
    config, a column or rows are missing."""
    _require_distill(dataset_dir)
    ds = load_config(dataset_dir, "distill", split)
    missing = [c for c in DISTILL_COLUMNS if c not in ds.column_names]
    if missing:
        raise InputError(f"{dataset_dir}: the `distill` config lacks column(s) {', '.join(missing)}")
    if len(ds) == 0:
        raise InputError(f"{dataset_dir}: the `distill` {split} split has no rows")
    return cap_rows(ds.select_columns(DISTILL_COLUMNS), max_rows)


def _load_one(dataset_dir: Path, opts: TrainOptions) -> dict[str, tuple[str, Any]]:
    """`load_training` for one published dataset dir."""
    sets: dict[str, tuple[str, Any]] = {}
    for name in PAIR_LOSSES:
        if name in opts.loss_parts:
            rows, config = training_rows(dataset_dir, opts)
            sets[name] = (config, rows)
    if "marginmse" in opts.loss_parts:
        sets["marginmse"] = ("distill", distill_rows(dataset_dir, opts.split, opts.max_rows))
    return sets


def as_dirs(dataset_dirs: Path | str | Sequence[Path | str]) -> list[Path]:
    """One dataset dir or several, as a list of Paths (load_training's and run_eval's input)."""
    return [Path(dataset_dirs)] if isinstance(dataset_dirs, (str, Path)) else [Path(d) for d in dataset_dirs]


def load_training(dataset_dirs: Path | str | Sequence[Path | str], opts: TrainOptions) -> dict[str, tuple[str, Any]]:
    """The datasets `opts.loss` trains on: {"mnrl" | "gist": (config, rows), "marginmse":
    ("distill", rows)}, only the losses used. Several dirs (e.g. one synthir dataset per language,
    for one multilingual student): each dir's rows, each capped by `opts.max_rows`, concatenated
    in the order given (the trainer's sampler shuffles them). Fails before any model is loaded:
    InputError for a dir that cannot be read, ConfigError for a dir given twice or dirs whose
    pair rows differ (`--config auto` found triplets in one and pairs only in another)."""
    opts.check()
    dirs = as_dirs(dataset_dirs)
    if not dirs:
        raise ConfigError("no dataset to train on")
    seen: set[Path] = set()
    for d in dirs:
        if d.resolve() in seen:
            raise ConfigError(f"dataset {d} is given twice: its rows would count double")
        seen.add(d.resolve())
    if len(dirs) > 1:  # every card checked before any rows are read
        uses_pairs = any(name in opts.loss_parts for name in PAIR_LOSSES)
        configs = [pair_config(d, opts) if uses_pairs else None for d in dirs]
        for d, config in zip(dirs[1:], configs[1:]):
            if config != configs[0]:
                raise ConfigError(f"{dirs[0]} gives `{configs[0]}` rows but {d} gives `{config}` rows: "
                                  "pass --config pairs to train on the pairs of both")
        for d in dirs if "marginmse" in opts.loss_parts else []:
            _require_distill(d)
    loaded = [_load_one(d, opts) for d in dirs]
    if len(loaded) == 1:
        return loaded[0]
    from datasets import concatenate_datasets

    return {name: (config, concatenate_datasets([first] + [o[name][1].cast(first.features) for o in loaded[1:]]))
            for name, (config, first) in loaded[0].items()}
