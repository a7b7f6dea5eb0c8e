"""The normalised corpus of a run: one Parquet file (id, title, text, lang, lang_confidence,
doc_id, position), its one owner, and the duplicate clusters found at ingest (a second
Parquet file: id, cluster_id, kind).

Written once by the ingest stage (`CorpusStore.writer()`, `write_clusters`), then read by the
index (batches), the round trip and mining (`equivalence`: duplicates and same-document
passages), publish (lookups by id, split groups) and `synthir filter` (the user's positives).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from data_schemas.records import Passage
from synthir.dedup import Clusters

SCHEMA = pa.schema([("id", pa.string()), ("title", pa.string()), ("text", pa.string()),
                    ("lang", pa.string()), ("lang_confidence", pa.float32()), ("doc_id", pa.string()),
                    ("position", pa.int32())])
CLUSTER_SCHEMA = pa.schema([("id", pa.string()), ("cluster_id", pa.string()), ("kind", pa.string())])
COLUMNS = SCHEMA.names
# id, title, text, lang: a corpus written before documents, detected languages and clusters has
# only these; it is read as passages that are their own document (the ingest stage, whose key
# changed, rewrites it on the next `synthir run`).
BASE_COLUMNS = ["id", "title", "text", "lang"]


def _present(path: str | Path, wanted: list[str]) -> list[str]:
    """The columns of `wanted` that the corpus file has."""
    names = set(pq.ParquetFile(path).schema_arrow.names)
    return [c for c in wanted if c in names]
LOOKUP_MAX_BYTES = 256 << 20  # corpus files up to this size are read once per process for lookups


@functools.lru_cache(maxsize=2)
def _lookup(path: str, mtime_ns: int, size: int) -> tuple[dict[str, int], pa.Table]:
    """({id: row}, table) of a corpus file; keyed on its path, mtime and size, so a rewritten
    corpus is read again."""
    table = pq.read_table(path, columns=_present(path, COLUMNS))
    return {i: k for k, i in enumerate(table.column("id").to_pylist())}, table


@functools.lru_cache(maxsize=2)
def _docs(path: str, mtime_ns: int, size: int) -> dict[str, str]:
    """{id: doc_id} of the passages cut from a document with several passages."""
    if "doc_id" not in _present(path, ["doc_id"]):
        return {}
    t = pq.read_table(path, columns=["id", "doc_id"]).to_pydict()
    count: dict[str, int] = {}
    for d in t["doc_id"]:
        count[d] = count.get(d, 0) + 1
    return {i: d for i, d in zip(t["id"], t["doc_id"]) if d and count[d] > 1}


@functools.lru_cache(maxsize=2)
def _clusters(path: str, mtime_ns: int, size: int) -> Clusters:
    t = pq.read_table(path).to_pydict()
    return Clusters(cluster_of=dict(zip(t["id"], t["cluster_id"])), kind=dict(zip(t["cluster_id"], t["kind"])))


def _passage(row: dict[str, Any]) -> Passage:
    return Passage(id=row["id"], title=row["title"] or "", text=row["text"], lang=row["lang"],
                   lang_confidence=row.get("lang_confidence"), doc_id=row.get("doc_id") or row["id"],
                   position=row.get("position") or 0)


class CorpusWriter:
    """Appends passages in batches to a temp file; `commit()` renames it into place."""

    def __init__(self, path: Path, batch_rows: int) -> None:
        self.path, self.batch_rows = path, batch_rows
        self.tmp = path.with_name(f".{path.name}.tmp")
        path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = pq.ParquetWriter(self.tmp, SCHEMA)
        self._buf: list[Passage] = []
        self.rows = 0

    def add(self, p: Passage) -> int:
        """Buffer one passage; returns how many rows were flushed to disk by this call."""
        self._buf.append(p)
        return self.flush() if len(self._buf) >= self.batch_rows else 0

    def flush(self) -> int:
        n = len(self._buf)
        if n:
            self._writer.write_table(pa.Table.from_pylist([p.model_dump() for p in self._buf], schema=SCHEMA))
            self._buf.clear()
            self.rows += n
        return n

    def commit(self) -> None:
        self.flush()
        self._writer.close()
        self.tmp.replace(self.path)

    def abort(self) -> None:
        self._writer.close()
        self.tmp.unlink(missing_ok=True)


@dataclass(frozen=True)
class CorpusStore:
    """Read access to a normalised corpus file (and its writer) and its clusters file
    (`clusters_path`, default `<corpus dir>/clusters.parquet`)."""

    path: Path
    clusters_path: Path | None = None

    def writer(self, batch_rows: int = 4096) -> CorpusWriter:
        return CorpusWriter(self.path, batch_rows)

    def write(self, passages: Iterable[dict[str, Any]]) -> None:
        """Write whole rows at once (tests, planted runs)."""
        pq.write_table(pa.Table.from_pylist(list(passages), schema=SCHEMA), self.path)

    @property
    def num_rows(self) -> int:
        return pq.ParquetFile(self.path).metadata.num_rows

    def ids(self) -> list[str]:
        """Passage ids in row order (row k of the embeddings is ids()[k])."""
        return pq.read_table(self.path, columns=["id"]).column("id").to_pylist()

    def batches(self, columns: list[str] | None = None, batch_size: int = 8192) -> Iterator[pa.RecordBatch]:
        """The corpus in row order, as Arrow record batches (of the `columns` the file has)."""
        cols = _present(self.path, columns) if columns is not None else None
        yield from pq.ParquetFile(self.path).iter_batches(batch_size=batch_size, columns=cols)

    def iter_passages(self, batch_size: int = 8192) -> Iterator[Passage]:
        """Every passage, in row order."""
        for batch in self.batches(COLUMNS, batch_size):
            yield from (_passage(r) for r in batch.to_pylist())

    def passages(self, wanted: Iterable[str]) -> dict[str, Passage]:
        """{id: Passage} of the `wanted` ids that exist. A file up to LOOKUP_MAX_BYTES is read
        once per process and looked up by id (mining calls this once per shard); a larger
        one is streamed on each call."""
        want = set(wanted)
        if not want:
            return {}
        st = self.path.stat()
        if st.st_size <= LOOKUP_MAX_BYTES:
            rows, table = _lookup(str(self.path), st.st_mtime_ns, st.st_size)
            hits = sorted(rows[i] for i in want if i in rows)
            return {r["id"]: _passage(r) for r in table.take(hits).to_pylist()} if hits else {}
        out: dict[str, Passage] = {}
        for batch in self.batches():
            out.update((r["id"], _passage(r)) for r in batch.to_pylist() if r["id"] in want)
        return out

    def texts(self, wanted: Iterable[str]) -> dict[str, str]:
        """{id: text} of the `wanted` passages."""
        return {i: p.text for i, p in self.passages(wanted).items()}

    def write_clusters(self, clusters: Clusters) -> None:
        """Write the duplicate clusters (atomically)."""
        path = self._clusters_file()
        tmp = path.with_name(f".{path.name}.tmp")
        pq.write_table(pa.Table.from_pylist(clusters.rows(), schema=CLUSTER_SCHEMA), tmp)
        tmp.replace(path)

    def _clusters_file(self) -> Path:
        return self.clusters_path or self.path.with_name("clusters.parquet")

    def clusters(self) -> Clusters:
        """The duplicate clusters found at ingest (empty when none were written)."""
        path = self._clusters_file()
        if not path.exists():
            return Clusters()
        st = path.stat()
        return _clusters(str(path), st.st_mtime_ns, st.st_size)

    def doc_of(self) -> dict[str, str]:
        """{passage id: doc_id} of passages whose document was split into several."""
        st = self.path.stat()
        return _docs(str(self.path), st.st_mtime_ns, st.st_size)

    def equivalence(self, match: str = "passage"):
        """A function (source id, other id) -> "duplicate" | "document" | None: whether
        `other` stands for `source` (same duplicate cluster; with match `document`, also a
        passage of the same document)."""
        clusters = self.clusters()
        docs = self.doc_of() if match == "document" else {}

        def same(source: str, other: str) -> str | None:
            if clusters.same(source, other):
                return "duplicate"
            d = docs.get(source)
            if d is not None and docs.get(other) == d:
                return "document"
            return None

        return same
