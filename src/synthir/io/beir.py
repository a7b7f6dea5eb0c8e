"""BEIR / MTEB folder format, read and written:

    DIR/corpus.jsonl   {"_id", "title", "text"}   (extra keys kept, e.g. "lang")
    DIR/queries.jsonl  {"_id", "text"}
    DIR/qrels/<split>.tsv  header `query-id<TAB>corpus-id<TAB>score`, graded scores allowed

`read_beir` is used by the contamination guard and the eval harness; `write_beir` by publish.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synthir.errors import InputError

QRELS_HEADER = ["query-id", "corpus-id", "score"]


@dataclass
class BeirData:
    """A BEIR dataset in memory: corpus {id: {"title", "text", ...}}, queries {id: text},
    query_langs {id: lang} (queries with a `lang` field), qrels {split: {query_id: {doc_id:
    score}}}."""

    corpus: dict[str, dict[str, Any]] = field(default_factory=dict)
    queries: dict[str, str] = field(default_factory=dict)
    query_langs: dict[str, str] = field(default_factory=dict)
    qrels: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)


def _jsonl(path: Path, required: tuple[str, ...] = ()) -> Iterator[dict[str, Any]]:
    """Rows of a jsonl file; InputError naming the line when one is not JSON, not an object or
    lacks a `required` key."""
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if line.strip():
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise InputError(f"{path}:{n}: not JSON ({exc.msg})") from None
                if not isinstance(row, dict):
                    raise InputError(f"{path}:{n}: not a JSON object")
                missing = [k for k in required if k not in row]
                if missing:
                    raise InputError(f"{path}:{n}: no {', '.join(missing)}")
                yield row


def read_beir(root: Path | str, corpus: bool = True) -> BeirData:
    """Read a BEIR dir (see module doc); `corpus=False` skips corpus.jsonl. Raises InputError
    naming the missing file or bad line."""
    root = Path(root)
    for name in (["corpus.jsonl"] if corpus else []) + ["queries.jsonl"]:
        if not (root / name).is_file():
            raise InputError(f"{root} is not a BEIR dir: {name} is missing")
    data = BeirData()
    if corpus:
        for row in _jsonl(root / "corpus.jsonl", required=("_id",)):
            rest = {k: v for k, v in row.items() if k != "_id"}
            data.corpus[str(row["_id"])] = {"title": rest.pop("title", "") or "",
                                            "text": rest.pop("text", "") or "", **rest}
    for r in _jsonl(root / "queries.jsonl", required=("_id", "text")):
        data.queries[str(r["_id"])] = r["text"]
        if r.get("lang"):
            data.query_langs[str(r["_id"])] = r["lang"]
    for tsv in sorted((root / "qrels").glob("*.tsv")):
        split: dict[str, dict[str, int]] = {}
        with tsv.open(encoding="utf-8", newline="") as fh:
            reader = csv.reader(fh, delimiter="\t")
            for n, row in enumerate(reader, 1):
                if n == 1 and row and row[0] == "query-id":
                    continue
                if len(row) < 3:
                    raise InputError(f"{tsv}:{n}: expected query-id, corpus-id, score")
                split.setdefault(row[0], {})[row[1]] = int(float(row[2]))
        data.qrels[tsv.stem] = split
    return data


def tsv_safe(value: str) -> bool:
    """True when `value` can be one TSV cell (no control or line-separator character)."""
    return not any(c < " " or c in "\x7f\u2028\u2029\x85" for c in value)


def write_beir(root: Path, corpus: Iterable[dict[str, Any]], queries: Iterable[dict[str, Any]],
               qrels: dict[str, Iterable[tuple[str, str, int]]]) -> dict[str, int]:
    """Write corpus rows ({"_id", "title", "text", ...}), query rows ({"_id", "text", ...})
    and qrels {split: [(query_id, corpus_id, score)]} as a BEIR dir. Returns row counts."""
    (root / "qrels").mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {"corpus": 0, "queries": 0}
    for name, rows in (("corpus", corpus), ("queries", queries)):
        with (root / f"{name}.jsonl").open("w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
                counts[name] += 1
    for split, triples in qrels.items():
        with (root / "qrels" / f"{split}.tsv").open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, delimiter="\t", lineterminator="\n")
            w.writerow(QRELS_HEADER)
            n = 0
            for qid, did, score in triples:
                if not (tsv_safe(qid) and tsv_safe(did)):  # ingest rejects such ids (bad_id)
                    raise InputError(f"qrels id {qid!r} / {did!r} has a tab or line break: "
                                     "it cannot be a BEIR qrels row")
                w.writerow([qid, did, int(score)])
                n += 1
        counts[f"qrels/{split}"] = n
    return counts
