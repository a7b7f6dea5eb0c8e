import json
from collections import Counter

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from data_schemas.config import CorpusConfig, CorpusFields
from synthir.errors import InputError
from synthir.io.corpus import CorpusReader, detect_format
from tests.malformed import write_malformed_corpus


def read_all(cfg):
    reader = CorpusReader(cfg)
    passages = list(reader)
    return reader, passages


def test_fifty_malformed_rows_each_counted_under_its_reason(tmp_path):
    path = tmp_path / "bad.jsonl"
    expected = write_malformed_corpus(path)
    reader, passages = read_all(CorpusConfig(path=path))
    assert len(passages) == 10
    got = Counter(r.reason for r in reader.rejected)
    assert got == expected
    assert reader.counts["read"] == 60 and reader.counts["kept"] == 10
    assert all(r.stage == "ingest" and r.item_id for r in reader.rejected)
    assert {r.item_id for r in reader.rejected if r.reason == "duplicate_id"} == {f"good-{i}" for i in range(5)}


def test_missing_file_and_no_usable_rows(tmp_path):
    with pytest.raises(InputError, match="corpus not found"):
        list(CorpusReader(CorpusConfig(path=tmp_path / "none.jsonl")))
    p = tmp_path / "all_bad.jsonl"
    p.write_text('{"id": "a"}\nnot json\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"no usable rows.*missing_text=1.*bad_json=1"):
        list(CorpusReader(CorpusConfig(path=p)))


def test_unknown_format(tmp_path):
    p = tmp_path / "c.xml"
    p.write_text("<x/>")
    with pytest.raises(InputError, match="corpus.format"):
        detect_format(p, "auto")


def test_csv_with_custom_fields_and_bad_rows(tmp_path):
    p = tmp_path / "c.csv"
    p.write_bytes(
        "doc,body,heading\n"
        "d1,A first passage that is long enough to keep.,T1\n"
        "d2,\"A quoted, comma-containing passage, also long enough.\",T2\n"
        "d3,too,few,many,fields\n".encode()
        + b"d4,caf\xe9 non utf8 passage that is otherwise long enough,T4\n"
        + b"d5,,T5\n")
    cfg = CorpusConfig(path=p, fields=CorpusFields(id="doc", text="body", title="heading", lang=None),
                       default_lang="en")
    reader, passages = read_all(cfg)
    assert [x.id for x in passages] == ["d1", "d2"]
    assert passages[1].text.startswith("A quoted, comma") and passages[0].lang == "en"
    assert Counter(r.reason for r in reader.rejected) == {"malformed_row": 1, "non_utf8": 1, "empty_text": 1}


def test_parquet_and_hf_dir_stream_the_same_passages(tmp_path):
    rows = [{"id": i, "text": f"Passage number {i} with enough characters.", "title": None, "lang": "en"}
            for i in range(50)]
    rows.append({"id": 99, "text": "x", "title": None, "lang": "en"})
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "c.parquet", row_group_size=7)
    reader, passages = read_all(CorpusConfig(path=tmp_path / "c.parquet", batch_rows=5))
    assert [p.id for p in passages] == [str(i) for i in range(50)]
    assert reader.counts == {"read": 51, "kept": 50, "too_short": 1}

    import datasets
    datasets.Dataset.from_list(rows).save_to_disk(str(tmp_path / "hf"))
    reader2, passages2 = read_all(CorpusConfig(path=tmp_path / "hf", batch_rows=8))
    assert passages2 == passages
    assert reader2.fingerprint() == reader.fingerprint()


def test_ids_derived_from_content_when_no_id_field(tmp_path):
    p = tmp_path / "c.jsonl"
    p.write_text("\n".join(json.dumps({"text": f"Some passage text number {i} here."}) for i in range(3)))
    _, passages = read_all(CorpusConfig(path=p, fields=CorpusFields(id=None)))
    assert len({x.id for x in passages}) == 3


def test_unterminated_csv_quote_is_one_malformed_row_not_swallowing_the_next(tmp_path):
    p = tmp_path / "c.csv"
    p.write_text('id,text\n'
                 'a,"a passage whose quote is never closed, long enough\n'
                 'b,the second passage that must still be read\n'
                 'c,"a real multi-line field,\nsecond line of it"\n'
                 'd,a fourth passage with "inner" quotes\n', encoding="utf-8")
    reader, passages = read_all(CorpusConfig(path=p, min_chars=5))
    assert [x.id for x in passages] == ["b", "c", "d"]
    assert passages[1].text == "a real multi-line field,\nsecond line of it"
    [bad] = reader.rejected
    assert bad.reason == "malformed_row" and "never closed" in bad.detail
    assert reader.counts["malformed_row"] == 1 and reader.counts["kept"] == 3


def test_ids_with_control_characters_are_rejected(tmp_path):
    p = tmp_path / "ids.jsonl"
    rows = [{"id": "tab\tid", "text": "x" * 40}, {"id": "new\nline", "text": "y" * 40},
            {"id": "ok-1", "text": "z" * 40}, {"id": "sep\u2028id", "text": "w" * 40}]
    p.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    reader, passages = read_all(CorpusConfig(path=p, fields=CorpusFields(id="id")))
    assert [x.id for x in passages] == ["ok-1"]
    assert [r.reason for r in reader.rejected] == ["bad_id"] * 3
    assert "'\\t'" in reader.rejected[0].detail


def test_corpus_directory_with_a_file_format_is_one_error(tmp_path):
    with pytest.raises(InputError, match="is a directory, but corpus.format is parquet"):
        list(CorpusReader(CorpusConfig(path=tmp_path, format="parquet")))


def test_qrels_refuse_ids_that_break_a_tsv_row(tmp_path):
    from synthir.io.beir import write_beir

    with pytest.raises(InputError, match="tab or line break"):
        write_beir(tmp_path, [], [], {"test": [("q1", "doc\n2", 1)]})
