"""synthir.io.beir.read_beir: a row without its id (or a query without its text), or a line that
is not a JSON object, is an InputError naming the file and line, not a KeyError."""

from __future__ import annotations

import json

import pytest

from synthir.errors import InputError
from synthir.io.beir import read_beir


def _write(root, corpus, queries):
    root.mkdir(exist_ok=True)
    (root / "corpus.jsonl").write_text("".join(json.dumps(r) + "\n" for r in corpus))
    (root / "queries.jsonl").write_text("".join(json.dumps(r) + "\n" for r in queries))


def test_reads_a_good_dir(tmp_path):
    _write(tmp_path, [{"_id": "d1", "title": "T", "text": "x"}], [{"_id": "q1", "text": "y", "lang": "es"}])
    data = read_beir(tmp_path)
    assert data.corpus == {"d1": {"title": "T", "text": "x"}}
    assert data.queries == {"q1": "y"} and data.query_langs == {"q1": "es"}


@pytest.mark.parametrize("corpus, queries, message", [
    ([{"text": "no id"}], [{"_id": "q1", "text": "y"}], "corpus.jsonl:1: no _id"),
    ([{"_id": "d1", "text": "x"}], [{"_id": "q1"}], "queries.jsonl:1: no text"),
    ([{"_id": "d1", "text": "x"}], [{"_id": "q1", "text": "y"}, ["a", "list"]], "queries.jsonl:2: not a JSON object"),
])
def test_a_row_without_its_keys_is_an_input_error_naming_the_line(tmp_path, corpus, queries, message):
    _write(tmp_path, corpus, queries)
    with pytest.raises(InputError, match=message):
        read_beir(tmp_path)
