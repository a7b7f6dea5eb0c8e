"""Passage lookups from the normalised corpus: the per-process cache and the streamed path
agree, and a rewritten corpus file is read again."""

import os

import pyarrow as pa
import pyarrow.parquet as pq

from synthir import runpaths
from synthir.runpaths import RunPaths
from synthir.stages import CORPUS_SCHEMA


def _write(paths: RunPaths, rows: list[dict]) -> None:
    paths.work.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=CORPUS_SCHEMA), paths.corpus, row_group_size=2)


def test_cached_and_streamed_lookups_agree_and_follow_rewrites(tmp_path, monkeypatch):
    paths = RunPaths(tmp_path)
    _write(paths, [{"id": f"p{i}", "title": f"T{i}" if i % 2 else None, "text": f"text {i}", "lang": "en"}
                   for i in range(7)])
    want = {"p1", "p4", "p6", "missing"}
    cached = paths.corpus_passages(want)
    assert cached == {"p1": {"title": "T1", "text": "text 1"}, "p4": {"title": "", "text": "text 4"},
                      "p6": {"title": "", "text": "text 6"}}
    monkeypatch.setattr(runpaths, "LOOKUP_MAX_BYTES", 0)  # force the streamed path
    assert paths.corpus_passages(want) == cached
    monkeypatch.undo()
    _write(paths, [{"id": "p1", "title": "new", "text": "rewritten", "lang": "en"}])
    st = paths.corpus.stat()
    os.utime(paths.corpus, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # a new file, a new key
    assert paths.corpus_passages(want) == {"p1": {"title": "new", "text": "rewritten"}}
    assert paths.corpus_texts(["p1"]) == {"p1": "rewritten"}
