"""Plain text out of three documentation formats shipped in Debian packages, for dev sets of
real questions (see `synthir.eval.debian_devsets`).

- Mallard (GNOME help `*.page`, XML): `parse_mallard_page` returns the page title, its
  `<desc>` and the body text as a reader sees it, parsed with `xml.etree`.
- Texinfo HTML (the R manuals, `texi2any` output): `parse_texinfo_html` splits a manual into
  its sections (chapter, section, subsection, ...), each with anchor, number, heading, level,
  parent anchor and own text (up to the next sectioning heading), with stdlib `html.parser`.
- HTML FAQs with numbered entry headings (fetchmail, zsh, FFmpeg): `parse_faq_html` returns
  each entry's number, heading, parent entry and own text. Both HTML parsers share one
  splitter (`_SectionSplitter`) and differ in which headings open a section.

Both return text blocks (paragraphs, list items, code lines) joined by newlines, with the
whitespace inside a block collapsed.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser

from synthir.errors import InputError

MALLARD = "{http://projectmallard.org/1.0/}"
# Block elements whose whole text is one block; everything else is walked into.
_MALLARD_LEAF = {"p", "title", "subtitle", "code", "screen", "synopsis", "desc"}
# Navigation, metadata and media: not text a reader reads on the page.
_MALLARD_SKIP = {"info", "links", "media", "comment"}
_SEQ_SEPARATORS = {"guiseq": " \u25b8 ", "keyseq": "+"}


@dataclass(frozen=True)
class HelpPage:
    """One Mallard page: `id` (the page's id attribute), `title`, `desc` ("" when absent),
    `text` (the body as a reader sees it, without the page title and <info>: one block per
    line) and `paragraphs` (the body's <p> blocks only, for length and translation checks)."""

    id: str
    title: str
    desc: str
    text: str
    paragraphs: tuple[str, ...]


def _norm(text: str) -> str:
    return " ".join(text.split())


def _local(el: ET.Element) -> str:
    """Mallard element name without the namespace; "" for comments and other namespaces."""
    tag = el.tag
    return tag.removeprefix(MALLARD) if isinstance(tag, str) and tag.startswith(MALLARD) else ""


def _inline_text(el: ET.Element, link_titles: dict[str, str], exclude: frozenset[str] = frozenset()) -> str:
    """Text of `el` and its descendants as Yelp renders it: media/comments skipped; an empty
    <link xref="page"> shows the linked page's title, an empty <link href="URL"> the URL;
    <guiseq> items are joined by " ▸ ", <keyseq> keys by "+". Children named in `exclude`
    are left out (their tails are kept)."""
    sep = _SEQ_SEPARATORS.get(_local(el))
    if sep is not None:
        return sep.join(_inline_text(c, link_titles) for c in el
                        if _local(c) and _local(c) not in _MALLARD_SKIP)
    parts: list[str] = [el.text or ""]
    for child in el:
        name = _local(child)
        if name and name not in _MALLARD_SKIP and name not in exclude:
            inner = _inline_text(child, link_titles)
            if name == "link" and not inner.strip():
                inner = (link_titles.get((child.get("xref") or "").split("#")[0], "")
                         or child.get("href") or "")
            parts.append(inner)
        parts.append(child.tail or "")
    return "".join(parts)


def _tree_items(tree: ET.Element, link_titles: dict[str, str]) -> Iterator[tuple[str, str]]:
    """("item", text) of every item of a Mallard <tree>, depth first. A tree item holds inline
    text and its sub-items (Yelp shows each on its own line); it has no <p>, so without this the
    text is lost: the evince booklet pages give their page order this way ("... in this order:"
    then the item "16, 1, 2, 15, ..."), the only thing that tells those pages apart. A tree's
    own <title> is a block as anywhere else."""
    for child in tree:
        name = _local(child)
        if name == "item":
            text = _norm(_inline_text(child, link_titles, frozenset({"item"})))
            if text:
                yield "item", text
            yield from _tree_items(child, link_titles)
        elif name in _MALLARD_LEAF:
            text = _norm(_inline_text(child, link_titles))
            if text:
                yield name, text


def _blocks(el: ET.Element, link_titles: dict[str, str]) -> Iterator[tuple[str, str]]:
    """(element name, text) of every non-empty leaf block under `el`, in document order
    (a <tree>'s items are blocks too: `_tree_items`)."""
    for child in el:
        name = _local(child)  # "" for comments, processing instructions, xi:include, ...
        if not name or name in _MALLARD_SKIP:
            continue
        if name == "tree":
            yield from _tree_items(child, link_titles)
        elif name in _MALLARD_LEAF:
            text = _norm(_inline_text(child, link_titles))
            if text:
                yield name, text
        else:
            yield from _blocks(child, link_titles)


def mallard_title(xml: bytes | str) -> tuple[str, str]:
    """(page id, title) of a Mallard page, without resolving links (the first pass that
    builds `link_titles` for `parse_mallard_page`)."""
    page = parse_mallard_page(xml)
    return page.id, page.title


def parse_mallard_page(xml: bytes | str, link_titles: dict[str, str] | None = None) -> HelpPage:
    """Parse one Mallard page. `link_titles` {page id: title} fills empty cross-page links.
    Raises InputError when the XML is malformed or the root is not a Mallard <page>."""
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        raise InputError(f"not well-formed Mallard XML ({exc})") from None
    if root.tag != f"{MALLARD}page":
        raise InputError(f"not a Mallard page: root element is {root.tag!r}")
    titles = link_titles or {}
    title_el = root.find(f"{MALLARD}title")
    desc_el = root.find(f"{MALLARD}info/{MALLARD}desc")
    title = _norm(_inline_text(title_el, titles)) if title_el is not None else ""
    desc = _norm(_inline_text(desc_el, titles)) if desc_el is not None else ""
    holder = ET.Element("body")
    holder.extend(c for c in root if c is not title_el)
    blocks = list(_blocks(holder, titles))
    return HelpPage(id=root.get("id") or "", title=title, desc=desc,
                    text="\n".join(t for _, t in blocks),
                    paragraphs=tuple(t for name, t in blocks if name == "p"))


# --- Texinfo HTML -----------------------------------------------------------------------

_SECTION_CLASSES = {
    "chapter": 1, "appendix": 1, "unnumbered": 1,
    "section": 2, "appendixsec": 2, "appendixsection": 2, "unnumberedsec": 2,
    "subsection": 3, "appendixsubsec": 3, "unnumberedsubsec": 3,
    "subsubsection": 4, "appendixsubsubsec": 4, "unnumberedsubsubsec": 4,
}
_HEADINGS = {"h2", "h3", "h4", "h5"}
_BLOCK_TAGS = {"p", "pre", "li", "dt", "dd", "div", "tr", "br", "table", "blockquote",
               "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "dl"}
# "7.2 Heading", "A.1 Heading", "Appendix A Heading"; a letter alone is a number only in
# "Appendix X" or before ".N" (so "I installed a package" keeps its "I").
_NUMBER = re.compile(r"^(?:Appendix\s+([A-Z])|((?:[0-9]+|[A-Z](?=\.[0-9]))(?:\.[0-9]+)*))\s+(.*)$")


@dataclass(frozen=True)
class TexinfoSection:
    """One sectioning unit of a Texinfo HTML manual: `anchor` (the section's HTML id),
    `number` ("7.2", "A.1" or ""), `heading` (without the number), `level` (1 chapter ..
    4 subsubsection), `parent` (anchor of the enclosing section, "" at top level) and `text`
    (its own text up to the next sectioning heading, one block per line)."""

    anchor: str
    number: str
    heading: str
    level: int
    parent: str
    text: str


class _SectionSplitter(HTMLParser):
    """Splits an HTML page at the headings `_on_start` accepts into sections: the heading's
    text and the text blocks up to the next one (a line per block element; <pre> keeps its
    lines). Skips <head> and the elements `_skip` names, with their content; text read while
    `_closed` is set belongs to no section. Subclasses: `_TexinfoSplitter`, `_FaqSplitter`."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.sections: list[dict] = []
        self._heading: dict | None = None
        self._skip_tag: str | None = None
        self._skip_depth = 0
        self._in_head = False
        self._pre = 0  # inside <pre>: source line breaks are text; elsewhere they are spaces
        self._closed = False

    def _skip(self, tag: str, attrs: dict[str, str | None]) -> bool:
        return tag in ("style", "script")

    def _on_start(self, tag: str, attrs: dict[str, str | None]) -> dict | None:
        """The new section's fields when `tag` opens a section heading, else None."""
        raise NotImplementedError

    def handle_starttag(self, tag: str, attrs_list: list[tuple[str, str | None]]) -> None:
        attrs = dict(attrs_list)
        self._in_head |= tag == "head"
        if self._in_head:
            return
        if self._skip_tag:
            self._skip_depth += tag == self._skip_tag
            return
        if self._skip(tag, attrs):
            self._skip_tag, self._skip_depth = tag, 1
            return
        fields = self._on_start(tag, attrs)
        if fields is not None:
            self._heading = {"fields": fields, "tag": tag, "parts": []}
            return
        self._pre += tag == "pre"
        if tag in _BLOCK_TAGS and self.sections:
            self.sections[-1]["parts"].append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "head":
            self._in_head = False
            return
        if self._in_head:
            return
        if self._skip_tag:
            self._skip_depth -= tag == self._skip_tag
            self._skip_tag = self._skip_tag if self._skip_depth else None
            return
        self._pre -= tag == "pre" and self._pre > 0
        if self._heading is not None and tag == self._heading["tag"]:
            h, self._heading = self._heading, None
            self.sections.append({**h["fields"], "heading": _norm("".join(h["parts"])), "parts": []})
        elif tag in _BLOCK_TAGS and self.sections:
            self.sections[-1]["parts"].append("\n")

    def handle_data(self, data: str) -> None:
        if self._in_head or self._skip_tag:
            return
        if self._heading is not None:
            self._heading["parts"].append(data)
        elif self.sections and not self._closed:
            self.sections[-1]["parts"].append(data if self._pre else data.replace("\n", " "))


class _TexinfoSplitter(_SectionSplitter):
    """Sections at Texinfo's sectioning headings (anchor, level); also skips the navigation
    headers and the tables of contents, and everything from the footnotes heading on."""

    def __init__(self) -> None:
        super().__init__()
        self._div_id = ""  # id of the sectioning <div> whose heading comes next
        self._span_id = ""  # id of the last <span id> (the anchor when there is no such div)

    def _skip(self, tag: str, attrs: dict[str, str | None]) -> bool:
        cls = (attrs.get("class") or "").split()
        return (tag == "div" and ("header" in cls or "contents" in cls or "shortcontents" in cls)) \
            or (tag == "ul" and "section-toc" in cls) or super()._skip(tag, attrs)

    def _on_start(self, tag: str, attrs: dict[str, str | None]) -> dict | None:
        if self._closed:
            return None
        cls = (attrs.get("class") or "").strip()
        if tag == "div" and cls in _SECTION_CLASSES and attrs.get("id"):
            self._div_id = attrs["id"] or ""
        if tag == "span" and attrs.get("id"):
            self._span_id = attrs["id"] or ""
        if tag in _HEADINGS and cls == "footnotes-heading":
            self._closed = True
            return None
        if tag in _HEADINGS and cls in _SECTION_CLASSES:
            anchor = self._div_id or self._span_id.removesuffix("-1")
            self._div_id = self._span_id = ""
            return {"anchor": anchor, "level": _SECTION_CLASSES[cls]}
        return None


def parse_texinfo_html(html: str) -> list[TexinfoSection]:
    """Split a texi2any HTML manual into its sections, in document order. Raises InputError
    when no sectioning heading is found (not a Texinfo HTML manual)."""
    splitter = _TexinfoSplitter()
    splitter.feed(html)
    splitter.close()
    if not splitter.sections:
        raise InputError("no Texinfo sections found (expected texi2any HTML with "
                         "<h2 class=\"chapter\"> / <h3 class=\"section\"> headings)")
    out: list[TexinfoSection] = []
    stack: list[TexinfoSection] = []
    for s in splitter.sections:
        m = _NUMBER.match(s["heading"])
        number, heading = (m.group(1) or m.group(2), m.group(3)) if m else ("", s["heading"])
        lines = [_norm(line) for line in "".join(s["parts"]).split("\n")]
        while stack and stack[-1].level >= s["level"]:
            stack.pop()
        sec = TexinfoSection(anchor=s["anchor"], number=number, heading=heading, level=s["level"],
                             parent=stack[-1].anchor if stack else "",
                             text="\n".join(line for line in lines if line))
        stack.append(sec)
        out.append(sec)
    return out


# --- FAQ HTML (numbered entry headings) -----------------------------------------------------

# "G1. Question", "3.1: Question", "1.1 Question": an FAQ entry's number, then its heading.
_ENTRY = re.compile(r"^([A-Z]?[0-9]+(?:\.[0-9]+)*)[.:]?\s+(\S.*)$")
_FOOTER = "This document was generated using"  # texi2any's last paragraph


@dataclass(frozen=True)
class FaqEntry:
    """One numbered entry of an HTML FAQ: `number` ("G1", "3.14.1"), `heading` (without the
    number), `parent` (the number of the enclosing entry: "3.14" for "3.14.1", "" at top
    level) and `text` (the entry's own text, one block per line, up to the next heading of
    its level or above; an unnumbered sub-heading stays in it as a line)."""

    number: str
    heading: str
    parent: str
    text: str


class _FaqSplitter(_SectionSplitter):
    """Sections at every <h1>-<h4> (level); also skips the heading links texi2any's bootstrap
    theme adds (`span.pull-right`); text after an <hr> belongs to no section (navigation and
    page footers)."""

    def _skip(self, tag: str, attrs: dict[str, str | None]) -> bool:
        return (tag == "span" and "pull-right" in (attrs.get("class") or "").split()) \
            or super()._skip(tag, attrs)

    def _on_start(self, tag: str, attrs: dict[str, str | None]) -> dict | None:
        if tag in ("h1", "h2", "h3", "h4"):
            self._closed = False
            return {"level": int(tag[1])}
        self._closed |= tag == "hr"
        return None


def parse_faq_html(html: str) -> list[FaqEntry]:
    """The numbered entries of an HTML FAQ, in document order: every <h1>-<h4> whose text
    starts with an entry number ("G1. ...", "3.1: ...", "1.1 ..."). An unnumbered heading
    below an entry's level is part of that entry (its heading a line of the entry's text);
    other unnumbered headings (tables of contents, "Chapter 3: ...") and their text are left
    out. Works on fetchmail's hand-written FAQ, zsh's yodl FAQ and texi2any FAQs such as
    FFmpeg's. Raises InputError when no numbered heading is found."""
    splitter = _FaqSplitter()
    splitter.feed(html)
    splitter.close()
    entries: list[tuple[str, str, list[str]]] = []  # (number, heading, text parts)
    level = 0  # heading level of the entry being read; 0: none
    for s in splitter.sections:
        m = _ENTRY.match(s["heading"])
        if m:
            entries.append((m.group(1), m.group(2), list(s["parts"])))
            level = s["level"]
        elif level and s["level"] > level:
            entries[-1][2].extend(["\n", s["heading"], "\n", *s["parts"]])
        else:
            level = 0
    out = []
    for number, heading, parts in entries:
        lines = [_norm(line) for line in "".join(parts).split("\n")]
        text = "\n".join(line for line in lines if line and not line.startswith(_FOOTER))
        out.append(FaqEntry(number=number, heading=heading, parent=number.rpartition(".")[0],
                            text=text))
    if not out:
        raise InputError("no numbered FAQ entries found (expected headings such as "
                         "<h2>G1. Question</h2>, <h2>3.1: Question</h2> or <h3>1.1 Question</h3>)")
    return out
