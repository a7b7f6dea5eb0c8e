"""Write the run as a Hugging Face dataset repo layout in `output.dir`.

Configs: pairs, corpus, queries, qrels (BEIR: query-id, corpus-id, score), documents (graded /
LLM-negative / HyDE documents per kept query, verified), hard_negatives (mined from the corpus,
with scores), triplets (query, positive, negative: mined and verified LLM negatives), rejected. Each is
`data/<config>/train-00000-of-00001-<sha256[:12]>.parquet`; README.md's YAML `configs:` names
those files, so `datasets.load_dataset(dir, "<config>")` works. The content hash in the name is
deliberate: `datasets` caches a local dir by its folder name and card metadata only, so a
re-published dataset with the same file names would load stale rows from its cache. The new data is built in a temp dir and swapped
in, so a failed publish leaves the previous dataset (or none), never a half-written one.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from data_schemas.config import RunConfig
from synthir.funnel import compute_funnel
from synthir.io.files import read_jsonl, write_json_atomic
from synthir.publish.card import render_card
from synthir.publish.tables import SCHEMAS, document_row, negative_row, pair_row, triplet_rows
from synthir.runpaths import RunPaths

CONFIGS = ["pairs", "corpus", "queries", "qrels", "documents", "hard_negatives", "triplets",
           "rejected"]
FILE = "train-00000-of-00001.parquet"


def _content_name(path: Path) -> str:
    """Rename `path` to carry the sha256 of its bytes; return the new file name."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    new = path.with_name(f"{path.stem}-{h.hexdigest()[:12]}{path.suffix}")
    path.rename(new)
    return new.name


def _write(dst: Path, name: str, rows: list[dict[str, Any]]) -> None:
    (dst / name).mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=SCHEMAS[name]), dst / name / FILE)


def _write_corpus(cfg: RunConfig, paths: RunPaths, dst: Path, referenced: set[str]) -> int:
    (dst / "corpus").mkdir(parents=True, exist_ok=True)
    n = 0
    with pq.ParquetWriter(dst / "corpus" / FILE, SCHEMAS["corpus"]) as writer:
        for batch in pq.ParquetFile(paths.corpus).iter_batches(batch_size=8192):
            t = pa.Table.from_batches([batch]).rename_columns(["_id", "title", "text", "lang"])
            if cfg.output.corpus == "referenced":
                mask = pa.array([i in referenced for i in t.column("_id").to_pylist()])
                t = t.filter(mask)
            writer.write_table(t.cast(SCHEMAS["corpus"]))
            n += t.num_rows
    return n


def publish(cfg: RunConfig, paths: RunPaths) -> dict[str, Any]:
    """Publish the finished stages of the run; return {"dir", "rows": {config: n}, "funnel"}."""
    passages: dict[str, dict] = {}
    pairs, documents, negatives = [], [], []
    rejected = list(read_jsonl(paths.ingest / "rejected.jsonl"))
    if (paths.ingest / "byo_rejected.jsonl").exists():
        rejected.extend(read_jsonl(paths.ingest / "byo_rejected.jsonl"))
    for shard in paths.shard_dirs():
        for p in read_jsonl(shard / "passages.jsonl"):
            passages[p["id"]] = p
        for name in ("generate_rejected.jsonl", "filter_rejected.jsonl", "roundtrip_rejected.jsonl",
                     "documents_rejected.jsonl", "verify_rejected.jsonl"):
            if (shard / name).exists():
                rejected.extend(read_jsonl(shard / name))
        if (shard / "kept.jsonl").exists():
            pairs.extend(pair_row(r, passages[r["passage_id"]]) for r in read_jsonl(shard / "kept.jsonl"))
        docs_file = shard / "verified_documents.jsonl"  # documents that passed verification
        if docs_file.exists():
            documents.extend(document_row(r) for r in read_jsonl(docs_file))
        if (shard / "negatives.jsonl").exists():
            negatives.extend(read_jsonl(shard / "negatives.jsonl"))
    pairs.sort(key=lambda r: r["id"])
    documents.sort(key=lambda r: (r["query_id"], r["kind"], -(r["level"] or 0), r["id"]))
    rejected.sort(key=lambda r: (r["stage"], r["id"]))
    queries = [{"_id": r["id"], "text": r["query"], "lang": r["query_lang"]} for r in pairs]
    qrels = [{"query-id": r["id"], "corpus-id": r["positive_id"], "score": 1} for r in pairs]

    funnel = compute_funnel(cfg, paths)
    tmp = paths.work / "publish.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    data = tmp / "data"
    _write(data, "pairs", pairs)
    _write(data, "queries", queries)
    _write(data, "qrels", qrels)
    _write(data, "documents", documents)
    texts = {r["positive_id"]: r["positive"] for r in pairs}
    texts.update(paths.corpus_texts({n["negative_id"] for n in negatives} - set(texts)))
    hard = [negative_row(n, texts) for n in sorted(negatives, key=lambda n: (n["query_id"], n["rank"]))]
    _write(data, "hard_negatives", hard)
    triplets = triplet_rows(pairs, hard, documents)
    _write(data, "triplets", triplets)
    _write(data, "rejected", rejected)
    n_corpus = _write_corpus(cfg, paths, data, {r["positive_id"] for r in pairs})
    rows = {"pairs": len(pairs), "corpus": n_corpus, "queries": len(queries), "qrels": len(qrels),
            "documents": len(documents), "hard_negatives": len(hard), "triplets": len(triplets),
            "rejected": len(rejected)}
    # `datasets` cannot load a Parquet file with no rows, so an empty config is not published
    # (the card still lists it with 0 rows); loading it then fails with "config not found".
    files = {}
    for name in CONFIGS:
        if rows[name]:
            files[name] = f"data/{name}/{_content_name(data / name / FILE)}"
        else:
            shutil.rmtree(data / name)
    (tmp / "README.md").write_text(render_card(cfg, funnel, rows, files), encoding="utf-8")
    write_json_atomic(tmp / "funnel.json", {"funnel": funnel, "rows": rows})

    root = paths.root
    old = paths.work / "publish.old"
    shutil.rmtree(old, ignore_errors=True)
    old.mkdir(parents=True)
    for name in ("data", "README.md", "funnel.json"):
        if (root / name).exists():
            (root / name).rename(old / name)
    for name in ("data", "README.md", "funnel.json"):
        (tmp / name).rename(root / name)
    shutil.rmtree(old, ignore_errors=True)
    shutil.rmtree(tmp, ignore_errors=True)
    return {"dir": str(root), "rows": rows, "funnel": funnel, "files": files}
