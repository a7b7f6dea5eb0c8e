"""Real corpora in, small and for real: lingua detects the passage language, markdown-it-py /
BeautifulSoup / semantic-text-splitter turn documents into passages, datasketch finds the
duplicate clusters, USE + FAISS run the round trip and mining, and `datasets` reads what is
published. The LLM is the scripted one of test_stages_resume (its query is the first three
words of the passage), so the tests are about the corpus, not the model."""

import json
import re
import shutil
from pathlib import Path

import pytest
from datasets import load_dataset

from synthir.cli import main
from synthir.pipeline import run_stages, start
from synthir.publish.hf import split_of
from synthir.rundir import RunDir, read_records
from synthir.stages import STAGES
from data_schemas.records import MinedNegative
from tests.conftest import demo_config
from tests.unit.test_stages_resume import ScriptedLLM


def first_words(text: str) -> str:
    return " ".join(re.findall(r"\w+", text)[:3])


@pytest.fixture(scope="module")
def french(wiki_corpus, tmp_path_factory):
    """30 French summaries WITHOUT a language field or title, plus a planted near-duplicate of
    one of them that the scripted query prefers over its source."""
    rows = [json.loads(line) for line in wiki_corpus.open(encoding="utf-8")]
    fr = [{"id": r["id"], "text": r["text"]} for r in rows if r["lang"] == "fr"][:30]
    source = next(r for r in fr if len(r["text"].split()) >= 50)
    words = source["text"].split()
    dup = {"id": "planted-dup", "text": first_words(source["text"]) + " : " + " ".join(words[:-2])}
    path = tmp_path_factory.mktemp("fr") / "fr.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in fr + [dup]), encoding="utf-8")
    return path, source["id"], dup["id"]


def test_french_corpus_without_language_publishes_and_a_planted_duplicate_is_a_hit(french, tmp_path):
    corpus, source, dup = french
    cfg = demo_config(corpus, tmp_path / "out", **{
        "corpus.fields.id": "id", "corpus.fields.text": "text", "sample.n": 40, "shard_size": 16,
        "languages": "[fr]", "sample.languages": "[FR]", "roundtrip.top_k": 1, "mining.num_negatives": 2,
        "output.dev_fraction": 0.5,
        # the scripted "query" (three words of the passage) is no sentence to identify a language in
        "generation.language_check": False, "filters.language_check": False})
    result = run_stages(cfg, start(cfg), STAGES, llm=ScriptedLLM(flaky=False), progress=False)
    f = result["funnel"]
    assert f["corpus"]["languages"]["detected"] == {"fr": 31}
    assert f["corpus"]["clusters"]["near_clusters"] == 1 and f["sample"]["skipped"]["near_duplicate"] == 1
    pairs = load_dataset(str(tmp_path / "out"), "pairs")
    rows = [r for s in pairs for r in pairs[s]]
    assert rows and {r["passage_lang"] for r in rows} == {"fr"} and not any(r["cross_lingual"] for r in rows)
    # the duplicate outranks its source for the source's query: a hit, not a drop
    [pair] = [r for r in rows if r["positive_id"] == source]
    assert (pair["roundtrip_rank"], pair["roundtrip_match"], pair["roundtrip_hit"]) == (1, "duplicate", dup)
    assert pair["cluster_id"] == source and f["roundtrip_match"]["duplicate"] >= 1
    # never mined as its negative
    run = RunDir(tmp_path / "out")
    negatives = [n for s in run.shard_dirs() for n in read_records(s.negatives, MinedNegative)]
    assert negatives and not any(n.negative_id == dup and n.positive_id == source for n in negatives)
    assert f["mining"]["skipped_duplicate_of_positive"] >= 1
    # the cluster is on one side of the split
    corpus_rows = {r["_id"]: r for r in load_dataset(str(tmp_path / "out"), "corpus")["train"]}
    assert corpus_rows[dup]["cluster_id"] == corpus_rows[source]["cluster_id"] == source
    side = [s for s in pairs if any(r["id"] == pair["id"] for r in pairs[s])]
    assert side == [split_of(min(source, dup), 0.5)]
    card = (tmp_path / "out" / "README.md").read_text(encoding="utf-8")
    assert "Passage languages detected by lingua (the corpus gave none): fr 31" in card
    assert "Duplicate clusters: 1 (0 exact, 1 near-duplicate" in card


def test_german_corpus_stops_with_one_line(tmp_path, capsys):
    corpus = tmp_path / "de.jsonl"
    texts = ["Der Rhein entspringt in den Schweizer Alpen und mündet bei Rotterdam in die Nordsee.",
             "Johann Sebastian Bach war ein deutscher Komponist, Violinist und Organist des Barock.",
             "Die Zugspitze ist mit 2962 Metern der höchste Berg Deutschlands im Wettersteingebirge."]
    corpus.write_text("".join(json.dumps({"id": f"d{i}", "text": t}, ensure_ascii=False) + "\n"
                              for i, t in enumerate(texts)), encoding="utf-8")
    rc = main(["run", str(Path(__file__).resolve().parents[2] / "configs" / "demo.yaml"),
               "--set", f"corpus.path={corpus}", "--set", "corpus.fields.id=id", "--set", "corpus.fields.text=text",
               "--out", str(tmp_path / "out"), "--no-progress"])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and err == "synthir: error: sample.languages [en, fr] matched 0 of 3 passages; detected: de 3"


def write_documents(root: Path, wiki: Path) -> list[str]:
    """8 Markdown and 4 HTML documents of 3 sections each (English Wikipedia summaries)."""
    en = [json.loads(line) for line in wiki.open(encoding="utf-8")]
    en = [r for r in en if r["lang"] == "en"][:36]
    names = []
    for d in range(12):
        part = en[3 * d:3 * d + 3]
        if d < 8:
            body = f"# Guide {d}\n\n" + "".join(f"## {r['title']}\n\n{r['text']}\n\n" for r in part)
            name = f"md/guide-{d}.md"
            data = body.encode()
        else:
            body = "".join(f"<h2>{r['title']}</h2><p>{r['text']}</p>" for r in part)
            name = f"html/page-{d}.html"
            data = f"<html><head><title>Page {d}</title></head><body><nav>Home</nav>{body}</body></html>".encode()
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
        names.append(name)
    return names


def test_a_folder_of_documents_runs_end_to_end(wiki_corpus, tmp_path):
    docs = tmp_path / "docs"
    names = write_documents(docs, wiki_corpus)
    cfg = demo_config(docs, tmp_path / "out", **{
        "corpus.chunk.max_tokens": 64, "sample.n": 8, "shard_size": 8, "sample.min_chars": 40,
        "languages": "[en]", "sample.languages": "[en]", "roundtrip.match": "document"})
    result = run_stages(cfg, start(cfg), STAGES, llm=ScriptedLLM(flaky=False), progress=False)
    d = result["funnel"]["corpus"]["documents"]
    assert d["documents"] == 12 and d["passages"] > 36 and d["max_tokens"] == 64
    corpus = load_dataset(str(tmp_path / "out"), "corpus")["train"]
    assert {r["doc_id"] for r in corpus} == set(names)
    assert sum(r["lang"] == "en" for r in corpus) > 0.9 * len(corpus)  # 64-token chunks of names: a few stray
    assert all(r["_id"].startswith(r["doc_id"] + "#") for r in corpus)
    assert any(r["title"].startswith("Guide 0 > ") for r in corpus)
    assert any(r["title"].startswith("Page 8 > ") for r in corpus) and not any("Home" in r["text"] for r in corpus)
    pairs = load_dataset(str(tmp_path / "out"), "pairs")["train"]
    assert pairs.num_rows > 0 and all(r["positive_doc_id"] in names for r in pairs)
    card = (tmp_path / "out" / "README.md").read_text(encoding="utf-8")
    assert f"Documents → passages: 12 documents → {d['passages']} passages" in card
    assert "roundtrip.match: document" in card


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("apt-get") is None, reason="needs apt-get (Debian/Ubuntu)")
def test_debian_html_manual_runs_end_to_end(tmp_path):
    """zsh-doc: 60 pages of the Z shell manual (HTML from texi2html; not a package kept aside
    for evaluation)."""
    from synthir.errors import InputError
    from synthir.eval.debs import fetch_deb

    try:
        deb = fetch_deb("zsh-doc", tmp_path / "debs")
    except InputError as exc:
        pytest.skip(f"no Debian archive: {exc}")
    pages = sorted(next(deb.root.rglob("FAQ.html")).parent.glob("*.html"), key=lambda p: (p.stat().st_size, p.name))
    html = tmp_path / "zsh-html"  # 60 mid-sized pages: the smallest are navigation stubs, and all
    html.mkdir()                  # 186 (3.5 MB) take minutes to embed on 2 cores
    for page in pages[99:159]:
        shutil.copy(page, html / page.name)
    cfg = demo_config(html, tmp_path / "out", **{"sample.n": 6, "shard_size": 6, "languages": "[en]",
                                                  "sample.languages": "[en]", "roundtrip.match": "document"})
    result = run_stages(cfg, start(cfg), STAGES, llm=ScriptedLLM(flaky=False), progress=False)
    d = result["funnel"]["corpus"]["documents"]
    assert d["documents"] == 60 and d["passages"] > d["documents"]
    assert result["funnel"]["corpus"]["languages"]["detected"].get("en", 0) > 0.9 * d["passages"]
    card = (tmp_path / "out" / "README.md").read_text(encoding="utf-8")
    assert f"Documents → passages: {d['documents']} documents → {d['passages']} passages" in card
    assert result["rows"]["pairs"] > 0


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("apt-get") is None, reason="needs apt-get (Debian/Ubuntu)")
def test_gnome_help_devset_keeps_the_booklet_page_order(tmp_path):
    """evince-common, the real package (about 1 MB): five booklet pages per language give their
    page order only inside a Mallard <tree>, the one thing that tells those pages apart. The
    dev set's passages must carry it, in English and Spanish."""
    from synthir.errors import InputError
    from synthir.eval.debian_devsets import build_gnome_help_devset
    from synthir.eval.debs import fetch_deb

    try:
        fetch_deb("evince-common", tmp_path / "debs")
    except InputError as exc:
        pytest.skip(f"no Debian archive: {exc}")
    for lang in ("en", "es"):
        out = tmp_path / lang
        build_gnome_help_devset("evince", lang, out, cache_dir=tmp_path / "debs")
        text = {r["_id"].split("/")[-1]: r["text"]
                for r in map(json.loads, (out / "corpus.jsonl").open(encoding="utf-8"))}
        assert "16, 1, 2, 15, 14, 3, 4, 13, 12, 5, 6, 11, 10, 7, 8, 9" in text["duplex-16pages"]
        assert "20, 1, 2, 19, 18, 3, 4, 17, 16" in text["singlesided-17-20pages"]
        assert "16, 1, 2, 15" in text["singlesided-13-16pages"]
