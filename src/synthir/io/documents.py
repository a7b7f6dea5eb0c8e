"""Documents (Markdown, HTML, plain text files) -> their sections, for chunking into passages.

A corpus path that is a folder or a glob of `.md` / `.markdown`, `.html` / `.htm` / `.xhtml`
and `.txt` files is read as documents (`document_files`); each file is one document whose
`doc_id` is its path relative to the folder (or to the glob's fixed prefix).

`sections_of(kind, data, fallback_title)` returns the document's `Section`s: the heading path
(breadcrumb, e.g. ("User guide", "Install", "On Debian")) and the text blocks under it as a
reader sees them (paragraphs, list items as "- item", table rows as "a | b", code blocks).
Parsers: Markdown with markdown-it-py (CommonMark + tables; YAML front matter is skipped, its
`title` used), HTML with BeautifulSoup (encoding from the bytes / <meta charset>; scripts,
styles, navigation, headers, footers and Sphinx "¶" links dropped), plain text split on blank
lines. The document title (<title>, front matter `title`, else the file name) heads the
breadcrumb of a document without a level-1 heading.
"""

from __future__ import annotations

import glob
import re
from dataclasses import dataclass, field
from pathlib import Path

from synthir.errors import InputError

DOC_KINDS = {".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html",
             ".xhtml": "html", ".txt": "text"}
_WS = re.compile(r"\s+")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
_BLANK = re.compile(r"\n\s*\n")
_GLOB_CHARS = set("*?[")


@dataclass(frozen=True)
class Section:
    """One section of a document: its heading path and its text blocks, in reading order."""

    path: tuple[str, ...]
    blocks: tuple[str, ...]


def clean(text: str) -> str:
    """Whitespace collapsed, Sphinx / docutils permalink signs removed."""
    return _WS.sub(" ", text.replace("\u00b6", " ")).strip()


def is_glob(path: str) -> bool:
    return any(c in _GLOB_CHARS for c in path)


def looks_like_documents(path: Path) -> bool:
    """A glob, a folder that is not a saved HF dataset, or a .md / .html / .txt file."""
    s = str(path)
    if is_glob(s):
        return True
    if path.is_dir():
        return not any((path / f).exists() for f in ("dataset_info.json", "dataset_dict.json", "state.json"))
    return path.suffix.lower() in DOC_KINDS


def document_files(path: Path) -> list[tuple[str, Path]]:
    """[(doc_id, file)] of the documents under `path` (folder, glob or one file), sorted by
    doc_id; hidden files and folders are skipped. InputError when there are none."""
    s = str(path)
    if is_glob(s):
        parts = Path(s).parts
        fixed = [p for p in parts[:next(i for i, p in enumerate(parts) if is_glob(p))]]
        root = Path(*fixed) if fixed else Path(".")
        files = [Path(f) for f in glob.glob(s, recursive=True)]
    elif path.is_dir():
        root, files = path, [p for p in path.rglob("*")]
    elif path.is_file():
        root, files = path.parent, [path]
    else:
        raise InputError(f"corpus not found: {path}")
    out = []
    for f in files:
        rel = f.relative_to(root) if f.is_relative_to(root) else Path(f.name)
        if f.is_file() and f.suffix.lower() in DOC_KINDS and not any(p.startswith(".") for p in rel.parts):
            out.append((rel.as_posix(), f))
    if not out:
        raise InputError(f"no documents under {path} (expected {', '.join(sorted(DOC_KINDS))} files)")
    return sorted(out)


@dataclass
class _Outline:
    """Collects headings and blocks into sections (the heading stack is the breadcrumb)."""

    stack: list[tuple[int, str]] = field(default_factory=list)
    sections: list[tuple[tuple[str, ...], list[str]]] = field(default_factory=list)
    has_h1: bool = False

    def heading(self, level: int, text: str) -> None:
        text = clean(text)
        if not text:
            return
        self.has_h1 |= level == 1
        while self.stack and self.stack[-1][0] >= level:
            self.stack.pop()
        self.stack.append((level, text))

    def block(self, text: str) -> None:
        if not text.strip():
            return
        path = tuple(t for _, t in self.stack)
        if not self.sections or self.sections[-1][0] != path:
            self.sections.append((path, []))
        self.sections[-1][1].append(text)

    def result(self, title: str) -> list[Section]:
        head = (clean(title),) if title.strip() else ()
        out = []
        for path, blocks in self.sections:
            full = path if self.has_h1 and path else head + path
            out.append(Section(full, tuple(blocks)))
        return out


def _inline_text(token) -> str:  # markdown_it.token.Token
    parts = []
    for child in token.children or []:
        if child.type in ("text", "code_inline", "image"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return clean("".join(parts))


def markdown_sections(text: str, fallback_title: str) -> list[Section]:
    """Sections of a Markdown document (see module doc)."""
    from markdown_it import MarkdownIt

    title = fallback_title
    fm = _FRONT_MATTER.match(text)
    if fm:
        text = text[fm.end():]
        m = re.search(r"^title:\s*['\"]?(.+?)['\"]?\s*$", fm.group(1), re.MULTILINE)
        title = m.group(1) if m else title
    outline = _Outline()
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    heading, in_item, row = 0, 0, None
    for tok in tokens:
        if tok.type == "heading_open":
            heading = int(tok.tag[1])
        elif tok.type == "heading_close":
            heading = 0
        elif tok.type == "list_item_open":
            in_item += 1
        elif tok.type == "list_item_close":
            in_item -= 1
        elif tok.type == "tr_open":
            row = []
        elif tok.type == "tr_close" and row is not None:
            outline.block(" | ".join(c for c in row if c))
            row = None
        elif tok.type == "inline":
            line = _inline_text(tok)
            if heading:
                outline.heading(heading, line)
            elif row is not None:
                row.append(line)
            elif line:
                outline.block(f"- {line}" if in_item else line)
        elif tok.type in ("fence", "code_block"):
            outline.block("\n".join(x.rstrip() for x in tok.content.strip("\n").splitlines()))
        elif tok.type == "html_block":
            outline.block(clean(_html_text(tok.content)))
    return outline.result(title)


def _html_text(fragment: str) -> str:
    from bs4 import BeautifulSoup

    return BeautifulSoup(fragment, "html.parser").get_text(" ")


_HTML_DROP = ["script", "style", "noscript", "nav", "header", "footer", "aside", "form", "template",
              "svg", "button", "iframe", "object", "head"]
_HTML_LEAF = {"p", "dt", "dd", "li", "caption", "figcaption", "summary", "address"}
_HTML_BLOCKS = ["p", "div", "ul", "ol", "dl", "table", "pre", "blockquote", "section", "article",
                "h1", "h2", "h3", "h4", "h5", "h6", "figure", "details"]
_HTML_INLINE = {"a", "abbr", "b", "bdi", "bdo", "cite", "code", "data", "dfn", "em", "i", "kbd", "mark",
                "q", "s", "samp", "small", "span", "strong", "sub", "sup", "time", "u", "var", "tt",
                "big", "font", "label", "del", "ins", "wbr"}


class _HtmlWalker:
    """Walks a parsed page in document order, feeding an _Outline."""

    def __init__(self, outline: _Outline) -> None:
        self.outline = outline
        self.buf: list[str] = []

    def flush(self) -> None:
        text = clean(" ".join(self.buf))
        self.buf = []
        self.outline.block(text)

    def walk(self, node) -> None:  # bs4.Tag
        from bs4 import NavigableString, Tag

        for child in node.children:
            if isinstance(child, NavigableString):
                if type(child) is NavigableString:  # not a comment, doctype, CDATA, ...
                    self.buf.append(str(child))
                continue
            if not isinstance(child, Tag):
                continue
            name = child.name
            if name in ("h1", "h2", "h3", "h4", "h5", "h6"):
                self.flush()
                self.outline.heading(int(name[1]), child.get_text(" "))
            elif name == "img":
                self.buf.append(str(child.get("alt") or ""))
            elif name == "br":
                self.buf.append(" ")
            elif name in _HTML_INLINE:
                self.buf.append(child.get_text(" "))
            elif name == "pre":
                self.flush()
                self.outline.block("\n".join(x.rstrip() for x in child.get_text().strip("\n").splitlines()))
            elif name == "tr":
                self.flush()
                cells = [clean(c.get_text(" ")) for c in child.find_all(["td", "th"], recursive=False)]
                self.outline.block(" | ".join(c for c in cells if c))
            elif name in _HTML_LEAF and child.find(_HTML_BLOCKS) is None:
                self.flush()
                text = clean(child.get_text(" "))
                self.outline.block(f"- {text}" if name == "li" and text else text)
            else:
                self.flush()
                self.walk(child)
                self.flush()


def html_sections(data: bytes, fallback_title: str) -> list[Section]:
    """Sections of an HTML page (see module doc); `data` are the file's bytes."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(data, "html.parser")
    title = clean(soup.title.get_text(" ")) if soup.title else ""
    for tag in soup.find_all(_HTML_DROP):
        tag.decompose()
    for tag in soup.select('[role="navigation"], a.headerlink, .headerlink'):
        tag.decompose()
    outline = _Outline()
    walker = _HtmlWalker(outline)
    walker.walk(soup.body or soup)
    walker.flush()
    return outline.result(title or fallback_title)


def text_sections(text: str, title: str) -> list[Section]:
    """One section: the paragraphs of a plain text (blank-line separated), under `title`."""
    blocks = tuple(clean(b) for b in _BLANK.split(text) if b.strip())
    return [Section((clean(title),) if title.strip() else (), blocks)] if blocks else []


def sections_of(kind: str, data: bytes, fallback_title: str) -> list[Section]:
    """Sections of one document file of `kind` (markdown | html | text). Markdown and text
    must be UTF-8 (UnicodeDecodeError otherwise); HTML declares its own encoding."""
    if kind == "html":
        return html_sections(data, fallback_title)
    text = data.decode("utf-8")
    if kind == "markdown":
        return markdown_sections(text, fallback_title)
    return text_sections(text, fallback_title)
