"""Passage lookups from the normalised corpus: the per-process cache and the streamed path
agree, and a rewritten corpus file is read again."""

import os

import pyarrow as pa
import pyarrow.parquet as pq

from synthir import corpus_store
from synthir.corpus_store import SCHEMA, CorpusStore


def _write(store: CorpusStore, rows: list[dict]) -> None:
    store.path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=SCHEMA), store.path, row_group_size=2)


def _titled(store: CorpusStore, want) -> dict:
    return {i: {"title": p.title, "text": p.text} for i, p in store.passages(want).items()}


def test_cached_and_streamed_lookups_agree_and_follow_rewrites(tmp_path, monkeypatch):
    store = CorpusStore(tmp_path / ".synthir" / "corpus.parquet")
    _write(store, [{"id": f"p{i}", "title": f"T{i}" if i % 2 else None, "text": f"text {i}", "lang": "en"}
                   for i in range(7)])
    want = {"p1", "p4", "p6", "missing"}
    cached = _titled(store, want)
    assert cached == {"p1": {"title": "T1", "text": "text 1"}, "p4": {"title": "", "text": "text 4"},
                      "p6": {"title": "", "text": "text 6"}}
    monkeypatch.setattr(corpus_store, "LOOKUP_MAX_BYTES", 0)  # force the streamed path
    assert _titled(store, want) == cached
    monkeypatch.undo()
    _write(store, [{"id": "p1", "title": "new", "text": "rewritten", "lang": "en"}])
    st = store.path.stat()
    os.utime(store.path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # a new file, a new key
    assert _titled(store, want) == {"p1": {"title": "new", "text": "rewritten"}}
    assert store.texts(["p1"]) == {"p1": "rewritten"}
