"""Dev sets from Debian documentation packages: the Mallard and Texinfo HTML parsers on tiny
hand-written fixtures, the builders on a hand-made .deb in the cache (offline: dpkg-deb
only), the CLI's one-line errors, and (slow: downloads from the Debian archive) real dev
sets built end to end and read back."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from synthir.cli import main
from synthir.errors import InputError
from synthir.eval.debian_devsets import (build_devsets, build_faq_devset, build_gnome_help_devset,
                                         build_rfaq_devset, is_question, translated_share)
from synthir.eval.debs import fetch_deb
from synthir.eval.docparse import parse_faq_html, parse_mallard_page, parse_texinfo_html
from synthir.io.beir import read_beir

NS = 'xmlns="http://projectmallard.org/1.0/"'


def _page(pid: str, title: str, body: str, desc: str = "") -> str:
    return (f'<page {NS} type="topic" id="{pid}"><info><link type="guide" xref="index"/>'
            f"<desc>{desc}</desc><credit><name>Someone</name></credit></info>"
            f"<title>{title}</title>{body}</page>")


PAGE = _page("paint-wall", "Paint a <gui>wall</gui>", """
  <p>Pick a   colour in the <gui style="menu">Palette</gui>
     menu.</p>
  <!-- a comment -->
  <media type="image" src="figures/wall.png"><p>screenshot</p></media>
  <steps><item><p>Open the tin.</p></item><item><p>Use <keyseq><key>Ctrl</key> <key>P</key></keyseq> or
    <guiseq><gui>Edit</gui><gui>Paint</gui></guiseq>.</p></item></steps>
  <section id="dry"><title>Drying time</title><p>Wait, then see <link xref="clean-brush"/> or
    <link href="https://example.org/paint"/>.</p>
    <code>paint --coats 2</code></section>
  <links type="topic"/>""", desc="Make a wall look new.")


def test_mallard_page_title_desc_and_body_as_read():
    page = parse_mallard_page(PAGE, {"clean-brush": "Clean the brush"})
    assert (page.id, page.title, page.desc) == ("paint-wall", "Paint a wall", "Make a wall look new.")
    assert page.text.split("\n") == [
        "Pick a colour in the Palette menu.", "Open the tin.", "Use Ctrl+P or Edit \u25b8 Paint.", "Drying time",
        "Wait, then see Clean the brush or https://example.org/paint.", "paint --coats 2"]
    assert page.paragraphs == ("Pick a colour in the Palette menu.", "Open the tin.", "Use Ctrl+P or Edit \u25b8 Paint.",
                               "Wait, then see Clean the brush or https://example.org/paint.")
    assert "Paint a wall" not in page.text and "Someone" not in page.text and "screenshot" not in page.text


def test_mallard_tree_items_are_text():
    """A <tree> item holds inline text and sub-items, no <p>: the evince booklet pages give
    their page order this way, and it is the only thing that tells those pages apart."""
    page = parse_mallard_page(_page("duplex-16pages", "16-page booklet", """
      <steps><item><p>Choose the <gui>General</gui> tab.</p>
        <tree><title>Page order</title><item>Type the page numbers in this order: <item>16, 1, 2, 15</item> <item>... and so
          <em>on</em></item></item></tree></item>
      <item><p>Click <gui>Print</gui>.</p></item></steps>"""))
    assert page.text.split("\n") == ["Choose the General tab.", "Page order", "Type the page numbers in this order:",
                                     "16, 1, 2, 15", "... and so on", "Click Print."]
    assert page.paragraphs == ("Choose the General tab.", "Click Print.")


@pytest.mark.parametrize("xml, msg", [("<page><p>unclosed</page>", "not well-formed"),
                                      (f"<topic {NS}/>", "not a Mallard page")])
def test_mallard_bad_input_is_one_line_error(xml, msg):
    with pytest.raises(InputError, match=msg):
        parse_mallard_page(xml)


def test_translated_share_counts_blocks_left_in_english():
    en = parse_mallard_page(_page("a", "Paint a wall", "<p>Open the tin first.</p><p>Use two coats.</p><p>OK</p>"))
    half = parse_mallard_page(_page("a", "Peindre un mur", "<p>Ouvrez le pot.</p><p>Use two coats.</p><p>OK</p>"))
    assert translated_share(half, en) == pytest.approx(2 / 3)  # "OK" (one word) is not compared
    assert translated_share(en, en) == 0.0


TEXINFO = """<!DOCTYPE html><html><head><title>Paint FAQ</title><style>h2 {color: red}</style></head>
<body><h1 class="settitle">Paint FAQ</h1>
<div class="contents"><h2 class="contents-heading">Table of Contents</h2><ul><li>1 Basics</li></ul></div>
<div class="chapter" id="Basics"><div class="header"><p>Next: <a href="#x">Colours</a></p></div>
<span id="Basics-1"></span><h2 class="chapter">1 Basics</h2>
<p>This chapter is
about paint.</p>
<div class="section" id="What-is-paint_003f"><div class="header"><p>Up: Basics</p></div>
<h3 class="section">1.1 What is paint?</h3>
<p>Paint is a liquid &ldquo;colour&rdquo;.</p>
<div class="example"><pre class="example">mix(red,
    blue)
</pre></div></div>
<div class="section" id="How-do-I-choose_003f"><h3 class="section">1.2 How do I choose?</h3>
<ul class="section-toc"><li><a href="#Walls">Walls</a></li></ul>
<div class="subsection" id="Walls"><h4 class="subsection">1.2.1 Walls</h4><p>Use matt paint.</p></div>
<div class="subsection" id="Doors"><h4 class="subsection">1.2.2 Doors</h4><p>Use gloss paint.</p></div></div>
<div class="section" id="I-spilled-it"><h3 class="section">1.3 I spilled it</h3><p>Use a cloth.</p></div></div>
<div class="appendix" id="Tools"><h2 class="appendix">Appendix A Tools</h2><p>Brushes.</p>
<div class="section" id="A-brush"><h3 class="appendixsec">A.1 How to clean a brush</h3><p>Water.</p></div></div>
<div class="footnotes-segment"><h4 class="footnotes-heading">Footnotes</h4><p>(1) a note</p></div>
</body></html>"""


def test_texinfo_sections_headings_levels_parents_and_text():
    secs = parse_texinfo_html(TEXINFO)
    assert [(s.anchor, s.number, s.heading, s.level, s.parent) for s in secs] == [
        ("Basics", "1", "Basics", 1, ""),
        ("What-is-paint_003f", "1.1", "What is paint?", 2, "Basics"),
        ("How-do-I-choose_003f", "1.2", "How do I choose?", 2, "Basics"),
        ("Walls", "1.2.1", "Walls", 3, "How-do-I-choose_003f"),
        ("Doors", "1.2.2", "Doors", 3, "How-do-I-choose_003f"),
        ("I-spilled-it", "1.3", "I spilled it", 2, "Basics"),
        ("Tools", "A", "Tools", 1, ""),
        ("A-brush", "A.1", "How to clean a brush", 2, "Tools")]
    text = {s.anchor: s.text for s in secs}
    assert text["Basics"] == "This chapter is about paint."  # no nav header, no TOC
    assert text["What-is-paint_003f"] == "Paint is a liquid \u201ccolour\u201d.\nmix(red,\nblue)"
    assert text["How-do-I-choose_003f"] == ""  # the section TOC is skipped
    assert text["A-brush"] == "Water."  # footnotes are dropped


def test_texinfo_without_sections_is_an_error():
    with pytest.raises(InputError, match="no Texinfo sections"):
        parse_texinfo_html("<html><body><p>hello</p></body></html>")


# fetchmail's hand-written style: "G1." numbers, an unnumbered <h3> inside an entry, chapters
# as <h1>, a contents list and a page footer after an <hr>.
FAQ_LETTERS = """<html><head><title>Paint FAQ</title><style>h1 {color: red}</style></head><body>
<h1 id="Contents">Contents</h1><ul><li><a href="#G1">G1. What is paint?</a></li></ul>
<h1 id="G">General problems</h1>
<h2><a id="G1" name="G1">G1. What is
paint?</a></h2>
<p>Paint is a liquid   colour.</p><pre>mix red
blue</pre>
<h2><a id="G2" name="G2">G2. Paint peels off the wall</a></h2>
<h3>On old walls</h3><p>Sand them first.</p>
<h3>On new walls</h3><p>Wait a month.</p>
<hr/>
<h1 id="T">Tools</h1>
<h2><a name="T1">T1. Which brush is best?</a></h2><p>See G1.</p>
<hr/><table><tr><td>Back to the Paint Home Page</td></tr></table>
</body></html>"""

# zsh's yodl style ("3.1:") and texi2any's bootstrap theme (heading links in span.pull-right,
# a generated-by footer).
FAQ_NUMBERS = """<html><body><hr><ul><li><a href="FAQ.html">Table of Contents</a></ul><hr>
<h1 >Chapter 3: Brushes</h1>
<h2 >3.1: How do I clean a brush?<span class="pull-right"><a href="#x">#</a> <a href="#t">TOC</a></span></h2>
<p>Rinse it in water.
<h3>3.1.1 Oil paint</h3><p>Use white spirit, then soap.</p>
<h2 >3.2: Brushes lose their hair</h2><p>Buy better brushes.</p>
<p style="font-size: small;">This document was generated using makeinfo.</p>
<hr><ul><li><a href="FAQ02.html">Previous Chapter</a></ul></body></html>"""


def test_faq_entries_numbers_headings_parents_and_text():
    entries = parse_faq_html(FAQ_LETTERS)
    assert [(e.number, e.heading, e.parent) for e in entries] == [
        ("G1", "What is paint?", ""), ("G2", "Paint peels off the wall", ""), ("T1", "Which brush is best?", "")]
    text = {e.number: e.text for e in entries}
    assert text["G1"] == "Paint is a liquid colour.\nmix red\nblue"  # no contents list, no <style>
    assert text["G2"] == "On old walls\nSand them first.\nOn new walls\nWait a month."  # sub-headings kept
    assert text["T1"] == "See G1."  # the footer after <hr> is no entry's text
    entries = parse_faq_html(FAQ_NUMBERS)
    assert [(e.number, e.heading, e.parent, e.text) for e in entries] == [
        ("3.1", "How do I clean a brush?", "3", "Rinse it in water."),  # no "# TOC" heading links
        ("3.1.1", "Oil paint", "3.1", "Use white spirit, then soap."),
        ("3.2", "Brushes lose their hair", "3", "Buy better brushes.")]  # no generated-by footer
    with pytest.raises(InputError, match="no numbered FAQ entries"):
        parse_faq_html("<html><body><h2>Contents</h2><p>hello</p></body></html>")


def test_is_question():
    assert is_question("What is paint?") and is_question("How to clean a brush")
    assert not is_question("I spilled it") and not is_question("Walls") and not is_question("")


# --- builders on a hand-made .deb (offline) ------------------------------------------------

needs_dpkg = pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="needs dpkg-deb")


def _fake_deb(cache: Path, package: str, files: dict[str, str], version: str = "1.0-1") -> Path:
    src = cache.parent / f"src-{package}"
    (src / "DEBIAN").mkdir(parents=True)
    (src / "DEBIAN" / "control").write_text(
        f"Package: {package}\nVersion: {version}\nArchitecture: all\n"
        "Maintainer: Test <test@example.org>\nDescription: test fixture\n")
    for rel, text in files.items():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_text(text, encoding="utf-8")
    cache.mkdir(parents=True, exist_ok=True)
    deb = cache / f"{package}_{version}_all.deb"
    subprocess.run(["dpkg-deb", "-Zgzip", "--root-owner-group", "--build", str(src), str(deb)],
                   check=True, capture_output=True)
    return deb


def _help_files(app: str) -> dict[str, str]:
    h = f"usr/share/help/{{}}/{app}/{{}}.page"
    body = "<p>Dip the brush and paint from top to bottom in long strokes.</p>"
    return {
        h.format("C", "index"): _page("index", "Paint help", "<section><title>Walls</title><links type='topic'/></section>"),
        h.format("C", "wall"): _page("wall", "Paint a wall", body),
        h.format("C", "door"): _page("door", "Paint a door", "<p>Sand the door first, then use gloss paint.</p>"),
        h.format("C", "door-old"): _page("door-old", "Paint a door", "<p>Old doors need a primer before the gloss paint.</p>"),
        h.format("fr", "wall"): _page("wall", "Peindre un mur", "<p>Trempez le pinceau et peignez de haut en bas.</p>"),
        h.format("fr", "door"): _page("door", "Paint a door", "<p>Sand the door first, then use gloss paint.</p>"),
        h.format("pt_BR", "wall"): _page("wall", "Pintar uma parede", "<p>Mergulhe o pincel e pinte de cima para baixo.</p>"),
    }


PKG = {"paintapp": "paintapp-common", "inkapp": "inkapp"}


@needs_dpkg
def test_gnome_help_devset_from_cached_deb(tmp_path):
    cache = tmp_path / "debs"
    deb = _fake_deb(cache, "paintapp-common", _help_files("paintapp"))
    out = tmp_path / "en"
    counts = build_gnome_help_devset("paintapp", "en", out, min_chars=20, cache_dir=cache,
                                     packages=PKG)
    assert counts == {"corpus": 3, "queries": 2, "qrels": 3}  # index is too short; 2 pages share a title
    data = read_beir(out)
    assert data.queries == {"q:en:paintapp/door": "Paint a door", "q:en:paintapp/wall": "Paint a wall"}
    assert data.qrels["test"]["q:en:paintapp/door"] == {"en:paintapp/door": 1, "en:paintapp/door-old": 1}
    assert data.corpus["en:paintapp/wall"]["title"] == "" and data.corpus["en:paintapp/wall"]["lang"] == "en"
    meta = json.loads((out / "devset.json").read_text())
    assert meta["packages"][0]["version"] == "1.0-1" and len(meta["packages"][0]["sha256"]) == 64
    assert meta["dropped"]["paintapp"]["short"] == ["index"]
    passages = [json.loads(line) for line in (out / "passages.jsonl").open()]
    assert sorted(passages[0]) == ["id", "lang", "text", "title"] and len(passages) == 3

    fr = build_gnome_help_devset("paintapp", "fr", tmp_path / "fr", min_chars=20, cache_dir=cache,
                                 packages=PKG)
    assert fr["queries"] == 1  # the door page is still English
    assert json.loads((tmp_path / "fr" / "devset.json").read_text())["dropped"]["paintapp"]["untranslated"] == ["door"]
    build_gnome_help_devset("paintapp", "pt-br", tmp_path / "pt", min_chars=20, cache_dir=cache,
                            packages=PKG)
    assert read_beir(tmp_path / "pt").query_langs == {"q:pt:paintapp/wall": "pt"}

    again = tmp_path / "en2"  # deterministic: same bytes on a rebuild from the cached .deb
    build_gnome_help_devset("paintapp", "en", again, min_chars=20, cache_dir=cache, packages=PKG)
    for name in ("corpus.jsonl", "queries.jsonl", "qrels/test.tsv", "passages.jsonl", "devset.json"):
        assert (out / name).read_bytes() == (again / name).read_bytes()
    assert deb.exists() and len(list(cache.glob("*.deb"))) == 1

    with pytest.raises(InputError, match=r"no paintapp help pages for language 'de'.*available: en, fr, pt_BR"):
        build_gnome_help_devset("paintapp", "de", tmp_path / "de", cache_dir=cache, packages=PKG)
    with pytest.raises(InputError, match="has no GNOME help for 'other'"):
        build_gnome_help_devset("other", "en", tmp_path / "x", cache_dir=cache,
                                packages={"other": "paintapp-common"})


@needs_dpkg
def test_gnome_help_devset_over_several_apps(tmp_path):
    cache = tmp_path / "debs"
    _fake_deb(cache, "paintapp-common", _help_files("paintapp"))
    _fake_deb(cache, "inkapp", {"usr/share/help/C/inkapp/wall.page": _page(
        "wall", "Paint a wall", "<p>Ink does not work on walls; use the paint app instead.</p>")})
    counts = build_gnome_help_devset(["paintapp", "inkapp"], "en", tmp_path / "both", min_chars=20,
                                     cache_dir=cache, packages=PKG)
    data = read_beir(tmp_path / "both")
    assert counts == {"corpus": 4, "queries": 2, "qrels": 4}
    assert data.qrels["test"]["q:en:inkapp/wall"] == {"en:inkapp/wall": 1, "en:paintapp/wall": 1}
    meta = json.loads((tmp_path / "both" / "devset.json").read_text())
    assert [p["name"] for p in meta["packages"]] == ["paintapp-common", "inkapp"]
    with pytest.raises(InputError, match="no inkapp help pages for language 'fr'"):
        build_gnome_help_devset(["paintapp", "inkapp"], "fr", tmp_path / "fr", min_chars=20,
                                cache_dir=cache, packages=PKG)


@needs_dpkg
def test_app_from_a_named_package(tmp_path):
    """`--app APP=PACKAGE`: the help dir APP read from PACKAGE (here not named like the app)."""
    cache = tmp_path / "debs"
    long = "<p>Dip the brush, wipe the extra paint off, and paint from top to bottom in long strokes.</p>"
    _fake_deb(cache, "paint-data", {"usr/share/help/C/paintapp/wall.page": _page("wall", "Paint a wall", long)})
    [(path, counts)] = build_devsets("gnome-help", ["en"], ["paintapp=paint-data"], tmp_path / "out",
                                     combine=True, cache_dir=cache)
    assert path == tmp_path / "out" / "paintapp-en" and counts["corpus"] == 1
    assert json.loads((path / "devset.json").read_text())["packages"][0]["name"] == "paint-data"
    for bad in ("=paint-data", "paintapp="):
        with pytest.raises(InputError, match="expected APP or APP=DEBIAN_PACKAGE"):
            build_devsets("gnome-help", ["en"], [bad], tmp_path / "bad", cache_dir=cache)


@needs_dpkg
def test_rfaq_devset_from_cached_deb(tmp_path):
    cache = tmp_path / "debs"
    _fake_deb(cache, "r-doc-html", {"usr/share/R/doc/manual/R-FAQ.html": TEXINFO})
    counts = build_rfaq_devset(tmp_path / "faq", min_chars=5, cache_dir=cache)
    data = read_beir(tmp_path / "faq")
    assert set(data.queries.values()) == {"What is paint?", "How do I choose?", "How to clean a brush"}
    assert data.qrels["test"]["q:R-FAQ#How-do-I-choose_003f"] == {"R-FAQ#Walls": 1, "R-FAQ#Doors": 1}
    assert "R-FAQ#I-spilled-it" in data.corpus and "R-FAQ#How-do-I-choose_003f" not in data.corpus
    assert counts == {"corpus": 7, "queries": 3, "qrels": 4}
    with pytest.raises(InputError, match="has no usr/share/R/doc/manual/R-intro.html"):
        build_rfaq_devset(tmp_path / "faq2", manuals=True, cache_dir=cache)


@needs_dpkg
def test_faq_devset_from_cached_debs(tmp_path):
    """Two FAQs in one dev set: every entry with text is a question except the sub-entries of
    one (3.1.1 answers 3.1); relevant documents are the entry and its sub-entries; ids keep
    the FAQ's name, so equal numbers in two FAQs stay apart."""
    cache = tmp_path / "debs"
    _fake_deb(cache, "fetchmail", {"usr/share/doc/fetchmail/fetchmail-FAQ.html": FAQ_LETTERS})
    _fake_deb(cache, "zsh-doc", {"usr/share/doc/zsh-common/html/FAQ03.html": FAQ_NUMBERS,
                                 "usr/share/doc/zsh-common/html/FAQ.html": "<html><h1>Index</h1></html>"})
    path = tmp_path / "faq"
    counts = build_faq_devset(path, faqs=["fetchmail", "zsh"], min_chars=5, cache_dir=cache)
    data = read_beir(path)
    assert counts == {"corpus": 6, "queries": 5, "qrels": 6}
    assert data.queries["q:zsh#3.1"] == "How do I clean a brush?" and "q:zsh#3.1.1" not in data.queries
    assert data.qrels["test"]["q:zsh#3.1"] == {"zsh#3.1": 1, "zsh#3.1.1": 1}
    assert data.qrels["test"]["q:fetchmail#G2"] == {"fetchmail#G2": 1}
    assert (data.corpus["fetchmail#T1"]["text"], data.corpus["fetchmail#T1"]["title"]) == ("See G1.", "")
    meta = json.loads((path / "devset.json").read_text())
    assert meta["counts"]["zsh"] == {"entries": 3, "documents": 3, "questions": 2}
    assert [p["name"] for p in meta["packages"]] == ["fetchmail", "zsh-doc"]
    again = tmp_path / "again"  # deterministic
    build_faq_devset(again, faqs=["fetchmail", "zsh"], min_chars=5, cache_dir=cache)
    for name in ("corpus.jsonl", "queries.jsonl", "qrels/test.tsv", "passages.jsonl", "devset.json"):
        assert (path / name).read_bytes() == (again / name).read_bytes()
    # the CLI's route, default min_chars 40: only G2's text is that long (the rest: chapters)
    [(out, counts)] = build_devsets("faq", ["en"], [], tmp_path / "cli", cache_dir=cache,
                                    faqs=["fetchmail", "zsh"])
    assert counts == {"corpus": 1, "queries": 1, "qrels": 1} and out == tmp_path / "cli"
    with pytest.raises(InputError, match="English only"):
        build_devsets("faq", ["de"], [], tmp_path / "de", cache_dir=cache)
    assert [json.loads(line)["source"] for line in (path / "corpus.jsonl").open()][-1] \
        == "usr/share/doc/zsh-common/html/FAQ03.html#3.2"  # the file, not the glob
    with pytest.raises(InputError, match="unknown FAQ 'perl' .known: fetchmail, zsh, ffmpeg"):
        build_faq_devset(tmp_path / "x", faqs=["perl"], cache_dir=cache)
    _fake_deb(cache, "ffmpeg-doc", {"usr/share/doc/ffmpeg/manual/other.html": "<html></html>"})
    with pytest.raises(InputError, match="ffmpeg-doc 1.0-1 has no usr/share/doc/ffmpeg/manual/faq.html"):
        build_faq_devset(tmp_path / "x", faqs=["ffmpeg"], cache_dir=cache)


def test_fetch_deb_and_cli_errors_are_one_line(tmp_path, capsys):
    with pytest.raises(InputError, match="not a Debian package name"):
        fetch_deb("-o Foo=bar", tmp_path)
    with pytest.raises(InputError, match="English only"):
        build_devsets("rfaq", ["fr"], [], tmp_path)
    assert main(["dev-set", "--source", "rfaq", "--langs", "de", "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "English only" in err
    assert main(["dev-set", "--source", "faq", "--faq", "perl", "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "unknown FAQ 'perl'" in err
    assert main(["dev-set", "--source", "rfaq", "--faq", "zsh", "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "--faq picks the FAQs of --source faq (got --source rfaq)" in err


# --- real packages from the Debian archive ----------------------------------------------------

@pytest.mark.slow
@pytest.mark.skipif(shutil.which("apt-get") is None, reason="needs apt-get (Debian/Ubuntu)")
def test_real_devsets_end_to_end(tmp_path, capsys):
    assert main(["dev-set", "--source", "rfaq", "--out", str(tmp_path / "rfaq")]) == 0
    faq = read_beir(tmp_path / "rfaq")
    assert len(faq.queries) >= 50 and len(faq.corpus) >= len(faq.queries)
    assert all(q.endswith("?") or q.split()[0] in ("How", "Why", "What") for q in faq.queries.values())
    assert all(d in faq.corpus for rel in faq.qrels["test"].values() for d in rel)

    assert main(["dev-set", "--source", "gnome-help", "--app", "eog", "--langs", "fr",
                 "--out", str(tmp_path / "help")]) == 0
    eog = read_beir(tmp_path / "help" / "eog-fr")
    assert len(eog.queries) >= 20 and set(eog.query_langs.values()) == {"fr"}
    assert {d["lang"] for d in eog.corpus.values()} == {"fr"}
    for qid, text in eog.queries.items():  # the title is not left in its own page
        assert all(eog.corpus[d]["text"].split("\n")[0] != text for d in eog.qrels["test"][qid])
    meta = json.loads((tmp_path / "help" / "eog-fr" / "devset.json").read_text())
    assert meta["packages"][0]["name"] == "eog" and meta["packages"][0]["version"]

    assert main(["dev-set", "--source", "faq", "--out", str(tmp_path / "faq")]) == 0
    faqs = read_beir(tmp_path / "faq")
    by_faq = {name: sum(q.startswith(f"q:{name}#") for q in faqs.queries) for name in ("fetchmail", "zsh", "ffmpeg")}
    assert min(by_faq.values()) >= 30 and len(faqs.queries) >= 200, by_faq
    assert all(d in faqs.corpus for rel in faqs.qrels["test"].values() for d in rel)
    assert not any("TOC" in q or "Chapter" in q for q in faqs.queries.values())

    with pytest.raises(InputError, match="cannot download Debian package 'synthir-no-such-package'"):
        fetch_deb("synthir-no-such-package", tmp_path / "debs")
