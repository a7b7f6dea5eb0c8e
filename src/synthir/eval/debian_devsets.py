"""BEIR dev sets of real human questions, built from Debian documentation packages.

- `build_rfaq_devset`: the R FAQ in `r-doc-html`. Query: an FAQ entry's heading when it is a
  question ("How can I save my workspace?"); relevant documents: that entry's own text and
  its direct subsections (2.5 "How can R be installed?" is answered by 2.5.1-2.5.3). Corpus:
  every FAQ section with text (questions or not), and with `manuals=True` also every section
  of the other R manuals in the package (R-intro, R-admin, R-data, R-lang, R-exts, R-ints) as
  distractors; those are unjudged, and a few of them answer an FAQ too.
- `build_gnome_help_devset`: a GNOME application's help (Mallard pages) in one language.
  Query: the page title (a task phrase or a question, what a user types into the help
  search); relevant document: the page body without its title and <info> (so the query is not
  a copy of the document). The <desc> is not used: it is the author's one-line summary of the
  answer ("Pictures open in a new window."), not a user's need, and some pages lack it.
  Pages with under `min_chars` of paragraph text (navigation pages) are left out, and so are
  pages whose translation is mostly missing (untranslated text stays English in the package).
  Pages with the same title share one query. Several apps can form one dev set (one
  corpus per language over all their pages: more distractors, and generic titles such as
  "Help translate" then have one relevant page per app).
- `build_faq_devset`: English software FAQs (fetchmail, zsh, FFmpeg; `SOFTWARE_FAQS`) in one
  dev set, the questions a user asks about a program as in the FAQs kept aside for judging
  this project. Query: a numbered FAQ entry's heading ("G7. Why does fetchmail ...?",
  "Fetchmail is timing out during message fetches"): every entry with text is one, except
  the sub-entries of an entry that is (FFmpeg's 3.14.1-3.14.4 answer 3.14). Relevant
  documents: the entry's own text and its direct sub-entries. Corpus: every entry with
  text of all the FAQs. Chapters (entries without text) are neither.

Each dev set dir holds corpus.jsonl / queries.jsonl (with `lang`) / qrels/test.tsv,
passages.jsonl (the corpus as synthir `corpus.path` input: id, title, text, lang) and
devset.json (provenance: package, version, sha256 of the .deb, selection rules, counts).
Documents have no title: a heading in the title would repeat the query. Output is
deterministic (ids from file names and anchors, sorted rows, no timestamps).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from synthir.errors import InputError
from synthir.eval.debs import Deb, fetch_deb
from synthir.eval.docparse import (FaqEntry, HelpPage, TexinfoSection, mallard_title,
                                   parse_faq_html, parse_mallard_page, parse_texinfo_html)
from synthir.io.beir import write_beir

R_DOC_PACKAGE = "r-doc-html"
R_MANUAL_DIR = "usr/share/R/doc/manual"
R_MANUALS = ("R-intro", "R-admin", "R-data", "R-lang", "R-exts", "R-ints")
# Help dirs ship in these packages (other apps: the package named like the app).
GNOME_HELP_PACKAGES = {"gedit": "gedit-common", "evince": "evince-common", "eog": "eog",
                       "gnome-terminal": "gnome-terminal-data", "totem": "totem-common",
                       "cheese": "cheese-common"}
# name: (Debian package, glob of its FAQ HTML file(s), in reading order)
SOFTWARE_FAQS = {"fetchmail": ("fetchmail", "usr/share/doc/fetchmail/fetchmail-FAQ.html"),
                 "zsh": ("zsh-doc", "usr/share/doc/zsh-common/html/FAQ[0-9]*.html"),
                 "ffmpeg": ("ffmpeg-doc", "usr/share/doc/ffmpeg/manual/faq.html")}
_QUESTION_WORDS = {"how", "why", "what", "which", "where", "when", "who", "can", "is", "are",
                   "do", "does", "should"}

Doc = dict[str, Any]


def is_question(heading: str) -> bool:
    """Whether an FAQ heading is a question: ends with "?" or starts with a question word
    ("How to report a bug"). Statements ("Legalese", "Lexical scoping") are not."""
    words = heading.split()
    return bool(words) and (heading.rstrip().endswith("?") or words[0].lower() in _QUESTION_WORDS)


def _write_devset(out: Path, docs: list[Doc], queries: list[Doc],
                  qrels: list[tuple[str, str, int]], meta: dict[str, Any]) -> dict[str, int]:
    """Write the BEIR files, passages.jsonl and devset.json (meta + counts); return counts."""
    docs = sorted(docs, key=lambda d: d["_id"])
    queries = sorted(queries, key=lambda q: q["_id"])
    qrels = sorted(qrels)
    out.mkdir(parents=True, exist_ok=True)
    write_beir(out, docs, queries, {"test": qrels})
    with (out / "passages.jsonl").open("w", encoding="utf-8") as fh:
        for d in docs:
            row = {"id": d["_id"], "title": d["title"], "text": d["text"], "lang": d["lang"]}
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    counts = {"corpus": len(docs), "queries": len(queries), "qrels": len(qrels)}
    meta = {**meta, "counts": {**meta.get("counts", {}), **counts}}
    (out / "devset.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1, sort_keys=True)
                                     + "\n", encoding="utf-8")
    return counts


# --- R FAQ ------------------------------------------------------------------------------

def _manual_docs(deb: Deb, manual: str, min_chars: int) -> tuple[list[Doc], list[TexinfoSection]]:
    """(documents, all sections) of one R manual: sections with text, indexes left out."""
    path = deb.root / R_MANUAL_DIR / f"{manual}.html"
    if not path.is_file():
        raise InputError(f"{deb.package} {deb.version} has no {R_MANUAL_DIR}/{manual}.html")
    sections = parse_texinfo_html(path.read_text(encoding="utf-8"))
    docs = [{"_id": f"{manual}#{s.anchor}", "title": "", "text": s.text, "lang": "en",
             "source": f"{manual}.html#{s.anchor}"} for s in sections
            if len(s.text) >= min_chars and not s.heading.lower().endswith("index")]
    return docs, sections


def build_rfaq_devset(out: Path, manuals: bool = False, min_chars: int = 40,
                      cache_dir: Path | None = None) -> dict[str, int]:
    """Build the R FAQ dev set (see module doc) at `out` from `r-doc-html`.

    Inputs: `out` dir; `manuals` adds the other R manuals' sections as distractors;
    `min_chars` is the shortest section text kept as a document. Outputs: the files listed
    in the module doc; returns counts {corpus, queries, qrels}."""
    deb = fetch_deb(R_DOC_PACKAGE, cache_dir)
    docs, sections = _manual_docs(deb, "R-FAQ", min_chars)
    doc_ids = {d["_id"] for d in docs}
    children: dict[str, list[str]] = {}
    for s in sections:
        children.setdefault(s.parent, []).append(s.anchor)
    queries: list[Doc] = []
    qrels: list[tuple[str, str, int]] = []
    unanswered = []
    for s in sections:
        if not is_question(s.heading):
            continue
        rel = [f"R-FAQ#{a}" for a in [s.anchor] + children.get(s.anchor, [])]
        rel = [r for r in rel if r in doc_ids]
        if not rel:
            unanswered.append(s.heading)
            continue
        qid = f"q:R-FAQ#{s.anchor}"
        queries.append({"_id": qid, "text": s.heading, "lang": "en", "number": s.number})
        qrels += [(qid, r, 1) for r in rel]
    faq_docs = len(docs)
    if manuals:
        for manual in R_MANUALS:
            docs += _manual_docs(deb, manual, min_chars)[0]
    meta = {"source": "rfaq", "lang": "en", "packages": [deb.provenance()],
            "query": "R FAQ entry heading that is a question",
            "document": "section text without its heading; a question's relevant documents are "
                        "its own section and its direct subsections",
            "corpus_from": ["R-FAQ"] + (list(R_MANUALS) if manuals else []),
            "selection": {"min_chars": min_chars},
            "counts": {"faq_docs": faq_docs, "questions_without_text": len(unanswered)}}
    return _write_devset(out, docs, queries, qrels, meta)


# --- software FAQs ---------------------------------------------------------------------

def _faq_entries(deb: Deb, pattern: str) -> list[tuple[str, FaqEntry]]:
    """(file path in the package, entry) for the numbered entries of the FAQ file(s) matching
    `pattern` in `deb`, in order."""
    files = sorted(deb.root.glob(pattern))
    if not files:
        raise InputError(f"{deb.package} {deb.version} has no {pattern}")
    entries = []
    for path in files:
        rel = path.relative_to(deb.root).as_posix()
        try:
            entries += [(rel, e) for e in parse_faq_html(path.read_text(encoding="utf-8"))]
        except InputError as exc:
            raise InputError(f"{deb.package}: {rel}: {exc}") from None
    return entries


def build_faq_devset(out: Path, faqs: list[str] | None = None, min_chars: int = 40,
                     cache_dir: Path | None = None) -> dict[str, int]:
    """Build the software FAQ dev set (see module doc) at `out` from the Debian packages of
    `faqs` (names in SOFTWARE_FAQS; default all of them).

    Inputs: `out` dir; `faqs`; `min_chars`, the shortest entry text kept as a document (an
    entry with less is a chapter). Outputs: the files listed in the module doc; returns
    counts {corpus, queries, qrels}. Raises InputError on an unknown FAQ name, a missing
    package or file, or an FAQ without numbered entries."""
    names = list(faqs or SOFTWARE_FAQS)
    unknown = [n for n in names if n not in SOFTWARE_FAQS]
    if unknown:
        raise InputError(f"unknown FAQ {unknown[0]!r} (known: {', '.join(SOFTWARE_FAQS)})")
    docs: list[Doc] = []
    queries: list[Doc] = []
    qrels: list[tuple[str, str, int]] = []
    meta: dict[str, Any] = {"source": "faq", "lang": "en", "faqs": names, "packages": [],
                            "counts": {}}
    for name in names:
        package, pattern = SOFTWARE_FAQS[name]
        deb = fetch_deb(package, cache_dir)
        located = _faq_entries(deb, pattern)
        entries = [e for _, e in located]
        with_text = {e.number for e in entries if len(e.text) >= min_chars}
        docs += [{"_id": f"{name}#{e.number}", "title": "", "text": e.text, "lang": "en",
                  "source": f"{path}#{e.number}"} for path, e in located if e.number in with_text]
        asked = set()
        for e in entries:  # a parent comes before its sub-entries
            if e.number not in with_text or e.parent in asked:
                continue
            asked.add(e.number)
            relevant = [e.number] + [c.number for c in entries if c.parent == e.number and c.number in with_text]
            qid = f"q:{name}#{e.number}"
            queries.append({"_id": qid, "text": e.heading, "lang": "en", "number": e.number})
            qrels += [(qid, f"{name}#{r}", 1) for r in relevant]
        meta["packages"].append(deb.provenance())
        meta["counts"][name] = {"entries": len(entries), "documents": len(with_text),
                                "questions": len(asked)}
    meta.update({"query": "numbered FAQ entry heading (an entry with text; not a sub-entry of "
                          "one that is asked)",
                 "document": "entry text without its heading; a question's relevant documents "
                             "are its own entry and its direct sub-entries",
                 "selection": {"min_chars": min_chars}})
    return _write_devset(out, docs, queries, qrels, meta)


# --- GNOME help ---------------------------------------------------------------------------

def _help_dir(deb: Deb, app: str, lang: str) -> tuple[Path, str]:
    """(dir of the app's pages for `lang`, help dir name): `en` is the source `C`; other codes
    match a dir name case-insensitively, `-` or `_` ("pt-br" -> pt_BR)."""
    base = deb.root / "usr/share/help"
    if not (base / "C" / app).is_dir():
        raise InputError(f"{deb.package} {deb.version} has no GNOME help for {app!r} "
                         f"(no usr/share/help/C/{app})")
    available = sorted(p.parent.name for p in base.glob(f"*/{app}") if p.is_dir())
    want = "C" if lang.lower() in ("en", "c") else lang.replace("-", "_").lower()
    match = [d for d in available if d.lower() == want.lower()]
    if not match:
        shown = ", ".join("en" if d == "C" else d for d in available)
        raise InputError(f"no {app} help pages for language {lang!r} in {deb.package} "
                         f"{deb.version} (available: {shown})")
    return base / match[0] / app, match[0]


def _load_pages(folder: Path) -> dict[str, HelpPage]:
    """{file stem: HelpPage} for every *.page in `folder`, empty links filled with titles."""
    raw = {p.stem: p.read_bytes() for p in sorted(folder.glob("*.page"))}
    titles = {}
    for stem, xml in raw.items():
        try:
            page_id, title = mallard_title(xml)
        except InputError as exc:
            raise InputError(f"{folder / stem}.page: {exc}") from None
        titles[page_id or stem] = title
    return {stem: parse_mallard_page(xml, titles) for stem, xml in raw.items()}


def translated_share(page: HelpPage, source: HelpPage) -> float:
    """Share of the title and the paragraphs of two words or more that differ from the
    English source page (itstool keeps untranslated text as the English original)."""
    pairs = [(a, b) for a, b in zip((source.title,) + source.paragraphs,
                                    (page.title,) + page.paragraphs) if len(a.split()) >= 2]
    return sum(a != b for a, b in pairs) / len(pairs) if pairs else 1.0


def _app_pages(app: str, lang: str, package: str, min_chars: int, min_translated: float,
               cache_dir: Path | None) -> tuple[Deb, str, dict[str, HelpPage], dict[str, list[str]], int]:
    """(deb, help dir, kept {stem: HelpPage}, dropped {reason: [stem]}, #pages) of one app."""
    deb = fetch_deb(package, cache_dir)
    folder, help_dir = _help_dir(deb, app, lang)
    pages = _load_pages(folder)
    source = pages if help_dir == "C" else _load_pages(folder.parent.parent / "C" / app)
    dropped: dict[str, list[str]] = {"short": [], "untranslated": [], "no_source": []}
    kept = {}
    for stem, page in pages.items():
        if sum(len(p) for p in page.paragraphs) < min_chars or not page.title:
            dropped["short"].append(stem)
        elif stem not in source:
            dropped["no_source"].append(stem)
        elif help_dir != "C" and translated_share(page, source[stem]) < min_translated:
            dropped["untranslated"].append(stem)
        else:
            kept[stem] = page
    return deb, help_dir, kept, dropped, len(pages)


def build_gnome_help_devset(app: str | list[str], lang: str, out: Path, min_chars: int = 60,
                            min_translated: float = 0.5, cache_dir: Path | None = None,
                            packages: dict[str, str] | None = None) -> dict[str, int]:
    """Build the help dev set of GNOME `app` in `lang` (see module doc) at `out`; several
    apps give one dev set over all their pages (queries with the same title, e.g. "Help
    translate", share one query whose relevant pages are all of them).

    Inputs: `app` (help dir name(s): gedit, evince, eog, ...), `lang` (`en` or a help dir
    name such as fr, de, pt_BR), `min_chars` (shortest paragraph text of a kept page),
    `min_translated` (smallest `translated_share` of a kept page, not for `en`), `packages`
    {app: Debian package} (default: GNOME_HELP_PACKAGES, else the app name). Outputs: the
    files listed in the module doc; returns counts {corpus, queries, qrels}. Raises
    InputError when a package, an app's help or the language is missing, or no page of an
    app survives the checks."""
    apps = [app] if isinstance(app, str) else list(app)
    code, docs, kept_titles = "", [], {}
    meta: dict[str, Any] = {"source": "gnome-help", "apps": apps, "packages": [], "help_dirs": {},
                            "dropped": {}, "counts": {"pages": 0}}
    for name in apps:
        package = (packages or {}).get(name) or GNOME_HELP_PACKAGES.get(name, name)
        deb, help_dir, kept, dropped, n_pages = _app_pages(name, lang, package, min_chars,
                                                           min_translated, cache_dir)
        if not kept:
            raise InputError(f"no usable {name} help pages in {help_dir} ({n_pages} pages: "
                             + ", ".join(f"{k}={len(v)}" for k, v in dropped.items()) + ")")
        code = "en" if help_dir == "C" else help_dir.split("_")[0].lower()
        for stem, page in kept.items():
            did = f"{code}:{name}/{stem}"
            docs.append({"_id": did, "title": "", "text": page.text, "lang": code,
                         "source": f"usr/share/help/{help_dir}/{name}/{stem}.page"})
            kept_titles[did] = page.title
        meta["packages"].append(deb.provenance())
        meta["help_dirs"][name] = help_dir
        meta["dropped"][name] = {k: sorted(v) for k, v in dropped.items()}
        meta["counts"]["pages"] += n_pages
    by_title: dict[str, list[str]] = {}
    for did, title in kept_titles.items():
        by_title.setdefault(title.casefold(), []).append(did)
    queries, qrels = [], []
    for dids in by_title.values():
        qid = f"q:{min(dids)}"
        queries.append({"_id": qid, "text": kept_titles[min(dids)], "lang": code})
        qrels += [(qid, d, 1) for d in dids]
    meta.update({"lang": code, "query": "page title",
                 "document": "page body without its title and <info>",
                 "selection": {"min_chars": min_chars, "min_translated": min_translated}})
    meta["counts"]["shared_titles"] = len(kept_titles) - len(by_title)
    return _write_devset(out, docs, queries, qrels, meta)


def build_devsets(source: str, langs: list[str] | None, apps: list[str], out: Path,
                  manuals: bool = False, combine: bool = False, cache_dir: Path | None = None,
                  faqs: list[str] | None = None) -> list[tuple[Path, dict[str, int]]]:
    """What `synthir dev-set --source rfaq|faq|gnome-help` builds: the R FAQ at `out` (English
    only), the software FAQs `faqs` (default all) at `out` (English only), or per language
    (default en fr de es) one dir `out/APP-LANG` per app, or with
    `combine` one dir `out/APP1+APP2-LANG` over all the apps. An app written `APP=PACKAGE`
    is read from that Debian package (default: GNOME_HELP_PACKAGES, else the app's name).
    Returns [(dir, counts)]."""
    if source == "rfaq":
        if langs and langs != ["en"]:
            raise InputError(f"the R FAQ is English only (got --langs {' '.join(langs)})")
        return [(out, build_rfaq_devset(out, manuals=manuals, cache_dir=cache_dir))]
    if source == "faq":
        if langs and langs != ["en"]:
            raise InputError(f"the software FAQs are English only (got --langs {' '.join(langs)})")
        return [(out, build_faq_devset(out, faqs=faqs, cache_dir=cache_dir))]
    if source != "gnome-help":
        raise InputError(f"unknown dev set source {source!r} (rfaq, faq, gnome-help)")
    packages: dict[str, str] = {}
    names = []
    for item in apps:
        name, sep, package = item.partition("=")
        if not name or (sep and not package):
            raise InputError(f"--app {item!r}: expected APP or APP=DEBIAN_PACKAGE")
        names.append(name)
        if package:
            packages[name] = package
    groups = [names] if combine else [[a] for a in names]
    built = []
    for group in groups:
        for lang in langs or ["en", "fr", "de", "es"]:
            path = out / f"{'+'.join(group)}-{lang}"
            built.append((path, build_gnome_help_devset(group, lang, path, packages=packages,
                                                                cache_dir=cache_dir)))
    return built
