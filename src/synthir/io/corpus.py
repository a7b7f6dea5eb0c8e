"""Stream a corpus (JSONL, Parquet, CSV, saved HF dataset dir, or a folder / glob of
Markdown, HTML and text documents) into validated `Passage`s.

Nothing is loaded whole: JSONL/CSV are read line by line, Parquet by record batch, a saved
HF dataset through its memory-mapped Arrow files, documents one file at a time. Documents
(and, with `corpus.chunk.rows`, rows longer than `chunk.max_tokens`) are split into passages
by a `Chunker` (synthir.io.chunking): passage id `<doc_id>#<position>`, title the section's
heading path. Every bad row becomes a `Rejected` with a reason (bad_json, non_utf8,
missing_text, empty_text, wrong_type, too_short, too_long, missing_id, bad_id, duplicate_id,
malformed_row, malformed_document); a missing file or an unreadable format raises
`InputError`. A CSV quote that is never closed makes its row a malformed_row and the lines
after it are read as rows again (not swallowed into that one field); an id with a control
character (tab, newline, ...) is a bad_id (ids are written to TSV and line-based files).

Language: the row's `fields.lang` value, normalised (`pt-BR` -> `pt`), else
`corpus.default_lang`; with neither, `lang` is `DETECT` ("") and the ingest stage detects it
(synthir.langid.PassageLanguage).
"""

from __future__ import annotations

import csv
import hashlib
import json
import sys
import unicodedata
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from data_schemas.config import CorpusConfig
from data_schemas.languages import normalize_language
from data_schemas.records import Passage, Rejected
from synthir.errors import InputError
from synthir.ids import content_id
from synthir.io.chunking import Chunker
from synthir.io.files import file_sha
from synthir.io.documents import DOC_KINDS, document_files, is_glob, looks_like_documents, sections_of, text_sections

RAW_PREVIEW = 500
DETECT = ""  # Passage.lang of a passage whose language the ingest stage detects
_SURROGATE_LO, _SURROGATE_HI = "\udc80", "\udcff"

RawRow = tuple[int, dict[str, Any] | None, str, str]  # (row number, row, error reason, raw)


def detect_format(path: Path, fmt: str) -> str:
    """Resolve `auto` to jsonl / parquet / csv / hf / documents from the path; raise
    InputError if unknown. A folder that is not a saved HF dataset, a glob, and .md / .html /
    .txt files are `documents`."""
    if fmt != "auto":
        return fmt
    if looks_like_documents(path):
        return "documents"
    if path.is_dir():
        return "hf"
    suffixes = "".join(path.suffixes).lower()
    for ext, name in ((".jsonl", "jsonl"), (".ndjson", "jsonl"), (".json", "jsonl"),
                      (".parquet", "parquet"), (".csv", "csv"), (".tsv", "csv")):
        if suffixes.endswith(ext):
            return name
    raise InputError(f"cannot tell the format of {path}; set corpus.format to "
                     "jsonl|parquet|csv|hf|documents")


def source_fingerprint(cfg: CorpusConfig) -> str:
    """sha256 over the corpus's source files (relative name + content): changes whenever the
    corpus is edited in place, so the ingest stage is redone (its `key`)."""
    path = Path(cfg.path)
    if not is_glob(str(path)) and not path.exists():
        raise InputError(f"corpus not found: {path}")
    fmt = detect_format(path, cfg.format)
    if fmt == "documents":
        files = document_files(path)
    elif path.is_dir():
        files = sorted((f.relative_to(path).as_posix(), f) for f in path.rglob("*") if f.is_file())
    else:
        files = [(path.name, path)]
    h = hashlib.sha256()
    for name, f in files:
        st = f.stat()
        h.update(f"{name}\0{st.st_size}\0{file_sha(f)}\n".encode("utf-8"))
    return h.hexdigest()


def _has_surrogates(value: Any) -> bool:
    return isinstance(value, str) and any(_SURROGATE_LO <= ch <= _SURROGATE_HI for ch in value)


def _iter_jsonl(path: Path) -> Iterator[RawRow]:
    with path.open("rb") as fh:
        for i, line in enumerate(fh):
            if not line.strip():
                continue
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError:
                yield i, None, "non_utf8", line[:RAW_PREVIEW].decode("utf-8", "replace")
                continue
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as exc:
                yield i, None, "bad_json", f"{exc.msg}: {text[:RAW_PREVIEW]}"
                continue
            if not isinstance(obj, dict):
                yield i, None, "bad_json", f"not an object: {text[:RAW_PREVIEW]}"
                continue
            yield i, obj, "", text[:RAW_PREVIEW]


class _Lines:
    """The physical lines of a text file for csv.reader, remembering the lines of the record
    being read (`record`) and able to read lines again (`again`)."""

    def __init__(self, fh: Any) -> None:
        self.fh = fh
        self.pending: deque[str] = deque()
        self.record: list[str] = []

    def __iter__(self) -> "_Lines":
        return self

    def __next__(self) -> str:
        line = self.pending.popleft() if self.pending else next(self.fh)
        self.record.append(line)
        return line

    def again(self, lines: list[str]) -> None:
        self.pending.extendleft(reversed(lines))


def _iter_csv(path: Path) -> Iterator[RawRow]:
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    delim = "\t" if path.suffix.lower() == ".tsv" else ","
    with path.open(encoding="utf-8", errors="surrogateescape", newline="") as fh:
        lines = _Lines(fh)
        reader = csv.reader(lines, delimiter=delim, strict=True)
        try:
            header = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InputError(f"cannot read the CSV header of {path}: {exc}") from None
        i = 0
        while True:
            i += 1
            lines.record = []
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                first = lines.record[0] if lines.record else ""
                if len(lines.record) > 1:  # a quote never closed: this row is bad, the next ones are rows
                    lines.again(lines.record[1:])
                    yield i, None, "malformed_row", f"{exc} (unterminated quote?): {first[:RAW_PREVIEW]}"
                    continue
                fields = next(csv.reader([first], delimiter=delim), [])  # one sloppy line: lenient
            if not fields:  # blank line
                i -= 1
                continue
            row = dict(zip(header, fields))
            raw = json.dumps(row, ensure_ascii=False, default=str)[:RAW_PREVIEW]
            if len(fields) != len(header):
                yield i, None, "malformed_row", f"wrong number of fields: {raw}"
                continue
            if any(_has_surrogates(v) for v in row.values()):
                yield i, None, "non_utf8", raw.encode("utf-8", "replace").decode("utf-8", "replace")
                continue
            yield i, row, "", raw


def _iter_parquet(path: Path, batch_rows: int) -> Iterator[RawRow]:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for a corrupt file
        raise InputError(f"cannot read Parquet corpus {path}: {exc}") from None
    i = 0
    for batch in pf.iter_batches(batch_size=batch_rows):
        for row in batch.to_pylist():
            yield i, row, "", ""
            i += 1


def _iter_hf(path: Path, batch_rows: int) -> Iterator[RawRow]:
    import datasets

    try:
        ds = datasets.load_from_disk(str(path))
    except Exception as exc:
        raise InputError(f"cannot read saved HF dataset {path}: {exc}") from None
    splits = [ds[name] for name in ds] if isinstance(ds, datasets.DatasetDict) else [ds]
    i = 0
    for split in splits:
        for batch in split.iter(batch_size=batch_rows):
            keys = list(batch)
            n = len(batch[keys[0]]) if keys else 0
            for j in range(n):
                yield i, {k: batch[k][j] for k in keys}, "", ""
                i += 1


def iter_raw_rows(cfg: CorpusConfig) -> Iterator[RawRow]:
    """Yield (row number, row dict or None, error reason, raw preview) from the corpus file."""
    path = Path(cfg.path)
    if not path.exists():
        raise InputError(f"corpus not found: {path}")
    fmt = detect_format(path, cfg.format)
    if fmt == "documents":
        raise ValueError("documents are read by CorpusReader, not as rows")
    if path.is_dir() and fmt != "hf":
        raise InputError(f"corpus {path} is a directory, but corpus.format is {fmt}: give a {fmt} "
                         "file, format: documents (or auto) for a folder of .md / .html / .txt "
                         "documents, or format: hf for a saved Hugging Face dataset")
    if fmt == "jsonl":
        return _iter_jsonl(path)
    if fmt == "csv":
        return _iter_csv(path)
    if fmt == "parquet":
        return _iter_parquet(path, cfg.batch_rows)
    return _iter_hf(path, cfg.batch_rows)


def _as_str(value: Any) -> str | None:
    """Strings pass; ints become strings (ids); bytes decode strictly; others are None."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, bytes):
        return value.decode("utf-8")  # UnicodeDecodeError handled by the caller
    return None


def length_problem(text: str, cfg: CorpusConfig) -> tuple[str, str] | None:
    """(too_short | too_long, detail) when `text` is outside corpus.min_chars / max_chars."""
    if len(text) < cfg.min_chars:
        return "too_short", f"{len(text)} chars < corpus.min_chars={cfg.min_chars}"
    if len(text) > cfg.max_chars:
        return "too_long", f"{len(text)} chars > corpus.max_chars={cfg.max_chars}"
    return None


def normalize_row(row: dict[str, Any], cfg: CorpusConfig, check_length: bool = True) -> Passage | tuple[str, str]:
    """Map a raw row to a Passage, or return (reason, detail) for a bad row (`check_length`:
    apply corpus.min_chars / max_chars here; off for a row that is split later)."""
    f = cfg.fields
    try:
        if f.text not in row or row[f.text] is None:
            return "missing_text", f"no {f.text!r} field"
        raw_text = row[f.text]
        if isinstance(raw_text, (int, float, bool)) or not isinstance(raw_text, (str, bytes)):
            return "wrong_type", f"{f.text!r} is {type(raw_text).__name__}, expected string"
        text = _as_str(raw_text)
        title = _as_str(row.get(f.title)) if f.title and row.get(f.title) is not None else ""
        lang = _as_str(row.get(f.lang)) if f.lang and row.get(f.lang) not in (None, "") else ""
        pid = None
        if f.id:
            if row.get(f.id) is None or row.get(f.id) == "":
                return "missing_id", f"no {f.id!r} field"
            pid = _as_str(row[f.id])
            if pid is None:
                return "wrong_type", f"{f.id!r} is {type(row[f.id]).__name__}, expected string or int"
            pid = pid.strip()
            if not pid:
                return "missing_id", f"{f.id!r} is blank"
            bad = next((c for c in pid if unicodedata.category(c) in ("Cc", "Zl", "Zp")), None)
            if bad is not None:
                return "bad_id", f"{f.id!r} contains the control character {bad!r} (ids go to TSV files)"
    except UnicodeDecodeError:
        return "non_utf8", "bytes value is not UTF-8"
    if title is None:
        return "wrong_type", f"{f.title!r} is {type(row.get(f.title)).__name__}, expected string"
    if lang is None:
        return "wrong_type", f"{f.lang!r} is {type(row.get(f.lang)).__name__}, expected string"
    assert text is not None
    if any(_has_surrogates(v) for v in (text, title, lang, pid)):
        return "non_utf8", "value is not valid UTF-8"
    text = text.strip()
    if not text:
        return "empty_text", "text is empty or whitespace"
    problem = length_problem(text, cfg) if check_length else None
    if problem:
        return problem
    if pid is None:
        pid = content_id(title, text)
    code = normalize_language(lang) if lang.strip() else (cfg.default_lang or DETECT)
    return Passage(id=pid, text=text, title=title.strip(), lang=code, doc_id=pid)


class CorpusReader:
    """Iterate validated passages; bad rows go to `self.rejected`, counts to `self.counts`.

    Inputs: a CorpusConfig and, for documents (or `corpus.chunk.rows`), a Chunker. Outputs:
    `Passage`s (iteration), `rejected` (list of Rejected), `counts` (dict reason -> n, plus
    `read` (rows or documents), `kept` (passages) and, when documents were split, `documents`
    and `split`), `fingerprint()` (sha256 of the kept passages).
    """

    def __init__(self, cfg: CorpusConfig, chunker: Chunker | None = None) -> None:
        self.cfg = cfg
        self.chunker = chunker
        self.counts: dict[str, int] = {"read": 0, "kept": 0}
        self.rejected: list[Rejected] = []
        self._seen_ids: set[bytes] = set()
        self._hash = hashlib.sha256()

    @property
    def format(self) -> str:
        path = Path(self.cfg.path)
        if not is_glob(str(path)) and not path.exists():
            raise InputError(f"corpus not found: {path}")
        fmt = detect_format(path, self.cfg.format)
        if fmt != "documents" and is_glob(str(path)):
            raise InputError(f"corpus.format is {fmt} but corpus.path {path} is a glob: "
                             "set corpus.format to documents (or auto)")
        return fmt

    def _reject(self, row_no: int, reason: str, detail: str, raw: str, item_id: str = "") -> None:
        self.counts[reason] = self.counts.get(reason, 0) + 1
        self.rejected.append(Rejected(
            id=content_id("ingest", row_no, reason, *([item_id] if item_id else [])), stage="ingest", reason=reason,
            detail=detail[:RAW_PREVIEW], item_id=item_id or f"row:{row_no}", raw=raw[:RAW_PREVIEW],
        ))

    def _keep(self, row_no: int, p: Passage, preview: str, check_length: bool = False) -> Iterator[Passage]:
        """Yield `p` unless its id was seen (or, for a chunk, its length is out of bounds)."""
        problem = length_problem(p.text, self.cfg) if check_length else None
        if problem:
            self._reject(row_no, problem[0], problem[1], preview or p.text, p.id)
            return
        key = hashlib.blake2b(p.id.encode("utf-8"), digest_size=8).digest()
        if key in self._seen_ids:
            self._reject(row_no, "duplicate_id", f"id {p.id!r} seen before", preview or p.text, p.id)
            return
        self._seen_ids.add(key)
        self.counts["kept"] += 1
        for part in (p.id, p.title, p.text, p.lang):
            self._hash.update(part.encode("utf-8") + b"\x00")
        yield p

    def _split(self, row_no: int, doc: Passage, sections: list) -> Iterator[Passage]:
        assert self.chunker is not None
        self.counts["split"] = self.counts.get("split", 0) + 1
        for c in self.chunker.chunks(sections):
            chunk = Passage(id=f"{doc.id}#{c.position}", title=c.title, text=c.text, lang=doc.lang,
                            doc_id=doc.id, position=c.position)
            yield from self._keep(row_no, chunk, "", check_length=True)

    def _rows(self) -> Iterator[Passage]:
        split_rows = self.cfg.chunk.rows and self.chunker is not None
        for row_no, row, err, raw in iter_raw_rows(self.cfg):
            self.counts["read"] += 1
            if row is None:
                self._reject(row_no, err, raw, raw)
                continue
            preview = raw or json.dumps(row, ensure_ascii=False, default=str)[:RAW_PREVIEW]
            res = normalize_row(row, self.cfg, check_length=not split_rows)
            if isinstance(res, tuple):
                self._reject(row_no, res[0], res[1], preview)
                continue
            if split_rows and not self.chunker.fits(res.title, res.text):
                yield from self._split(row_no, res, text_sections(res.text, res.title))
            else:
                yield from self._keep(row_no, res, preview, check_length=split_rows)

    def _documents(self) -> Iterator[Passage]:
        if self.chunker is None:
            raise ValueError("reading documents needs a Chunker")
        lang = self.cfg.default_lang or DETECT
        for row_no, (doc_id, path) in enumerate(document_files(Path(self.cfg.path))):
            self.counts["read"] += 1
            self.counts["documents"] = self.counts.get("documents", 0) + 1
            try:
                sections = sections_of(DOC_KINDS[path.suffix.lower()], path.read_bytes(), path.stem)
            except UnicodeDecodeError as exc:
                self._reject(row_no, "non_utf8", f"{doc_id}: {exc.reason} at byte {exc.start}", "", doc_id)
                continue
            except Exception as exc:  # a parser's failure on one file: counted, the others go on
                self._reject(row_no, "malformed_document", f"{doc_id}: {exc}"[:RAW_PREVIEW], "", doc_id)
                continue
            if not sections:
                self._reject(row_no, "empty_text", f"{doc_id}: no text", "", doc_id)
                continue
            yield from self._split(row_no, Passage(id=doc_id, text="-", lang=lang), sections)

    def __iter__(self) -> Iterator[Passage]:
        yield from (self._documents() if self.format == "documents" else self._rows())
        if self.counts["kept"] == 0:
            reasons = ", ".join(f"{k}={v}" for k, v in self.counts.items()
                                if k not in ("read", "kept", "documents", "split"))
            raise InputError(f"no usable rows in corpus {self.cfg.path} "
                             f"({self.counts['read']} read{'; ' + reasons if reasons else ''})")

    def fingerprint(self) -> str:
        """sha256 over the kept passages, in order (valid after iteration finished)."""
        return self._hash.hexdigest()
