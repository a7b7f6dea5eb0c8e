"""A planted `distill` config (query, positive, negative, label) added to a published dataset
dir, laid out like the pipeline's configs: data/distill/<split>-00000-of-00001.parquet and
an entry in the README.md YAML `configs:`. The pipeline does not publish it yet (teacher
stage), so the eval tests plant it."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

DISTILL_SCHEMA = pa.schema([("query", pa.string()), ("positive", pa.string()), ("negative", pa.string()),
                            ("label", pa.float32())])


def add_distill_config(root: Path, rows: list[dict[str, object]], split: str = "train") -> Path:
    """Write `rows` as the `distill` config of the published dataset at `root` and register
    it in README.md; returns the Parquet path."""
    rel = f"data/distill/{split}-00000-of-00001.parquet"
    (root / rel).parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=DISTILL_SCHEMA), root / rel)
    card = (root / "README.md").read_text(encoding="utf-8")
    _, front, body = card.split("---\n", 2)
    meta = yaml.safe_load(front)
    meta["configs"] = [c for c in meta["configs"] if c["config_name"] != "distill"]
    meta["configs"].append({"config_name": "distill", "data_files": [{"split": split, "path": rel}]})
    (root / "README.md").write_text("---\n" + yaml.safe_dump(meta, sort_keys=False, allow_unicode=True)
                                    + "---\n" + body, encoding="utf-8")
    return root / rel


def distill_rows_from_triplets(root: Path) -> list[dict[str, object]]:
    """One distill row per published train triplet, with a made-up teacher margin."""
    from datasets import load_dataset

    tri = load_dataset(str(root), "triplets", split="train")
    return [{"query": r["anchor"], "positive": r["positive"], "negative": r["negative"], "label": 0.5 + 0.1 * i}
            for i, r in enumerate(tri)]
