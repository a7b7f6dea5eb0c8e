import random

from data_schemas.config import SampleConfig
from data_schemas.records import Passage
from synthir.sampling import sample_passages


def corpus(n_en=50, n_fr=50, n_es=10):
    out = []
    for lang, n in (("en", n_en), ("fr", n_fr), ("es", n_es)):
        out += [Passage(id=f"{lang}{i}", lang=lang, text=f"{lang} passage {i} " + "x" * 100) for i in range(n)]
    return out


def test_seeded_and_stratified():
    cfg = SampleConfig(n=10, seed=3, languages=["en", "fr"])
    a = sample_passages(iter(corpus()), cfg, random.Random(3))
    b = sample_passages(iter(corpus()), cfg, random.Random(3))
    c = sample_passages(iter(corpus()), cfg, random.Random(4))
    assert [p.id for p in a.passages] == [p.id for p in b.passages]
    assert [p.id for p in a.passages] != [p.id for p in c.passages]
    assert sum(p.lang == "en" for p in a.passages) == 5 and sum(p.lang == "fr" for p in a.passages) == 5
    assert a.skipped["language_not_sampled"] == 10


def test_shortfall_of_one_language_goes_to_the_others():
    res = sample_passages(iter(corpus(n_en=50, n_fr=2)), SampleConfig(n=10, languages=["en", "fr"]),
                          random.Random(0))
    assert sum(p.lang == "fr" for p in res.passages) == 2
    assert sum(p.lang == "en" for p in res.passages) == 8


def test_guards_length_and_duplicate_text():
    ps = [Passage(id="a", text="short text", lang="en"),
          Passage(id="b", text="A long enough passage " * 5, lang="en"),
          Passage(id="c", text="a LONG enough passage " * 5, lang="en"),
          Passage(id="d", text="y" * 5000, lang="en")]
    res = sample_passages(iter(ps), SampleConfig(n=5, min_chars=50, max_chars=2000, too_long="skip"),
                          random.Random(0))
    assert [p.id for p in res.passages] == ["b"]
    assert res.skipped == {"too_short_for_sample": 1, "duplicate_text": 1, "too_long_for_sample": 1}
    assert res.cut == 0


def test_a_long_passage_is_sampled_and_its_prompts_show_its_head():
    """The default (too_long: head): a passage over max_chars is sampled like any other and
    counted in `cut`; prompt_passage shows its head, cut at a word, and leaves the rest alone."""
    from synthir.sampling import prompt_passage

    long_text = "First sentence of the answer. " + "more words here " * 400 + "THE TAIL"
    ps = [Passage(id="a", text="A passage of ordinary length " * 4, lang="en"),
          Passage(id="b", text=long_text, lang="en")]
    res = sample_passages(iter(ps), SampleConfig(n=5, min_chars=50, max_chars=2000), random.Random(0))
    assert [p.id for p in res.passages] == ["a", "b"] and not res.skipped and res.cut == 1
    shown = prompt_passage(res.passages[1], 2000)
    assert shown.text.startswith("First sentence of the answer.") and shown.text.endswith(" …")
    assert len(shown.text) <= 2002 and "THE TAIL" not in shown.text
    assert shown.text[:-2].split()[-1] in {"more", "words", "here"}  # cut at a word, not inside one
    assert res.passages[1].text == long_text and shown.id == "b"  # the record keeps the whole passage
    assert prompt_passage(res.passages[0], 2000) is res.passages[0]
    assert prompt_passage(res.passages[1], None) is res.passages[1]
    one_word = Passage(id="c", text="y" * 5000, lang="en")
    assert prompt_passage(one_word, 2000).text == "y" * 2000 + " …"  # no space to cut at


def test_no_global_random_state_touched():
    random.seed(123)
    before = random.random()
    random.seed(123)
    sample_passages(iter(corpus()), SampleConfig(n=10), random.Random(0))
    assert random.random() == before


def test_one_passage_per_duplicate_cluster():
    from collections import Counter

    ps = corpus(n_en=6, n_fr=0, n_es=0)
    clusters = {"en1": "en1", "en2": "en1", "en3": "en1"}
    res = sample_passages(iter(ps), SampleConfig(n=10), random.Random(0), clusters)
    assert sorted(p.id for p in res.passages) == ["en0", "en1", "en4", "en5"]
    assert res.skipped == Counter(near_duplicate=2) and res.languages == Counter(en=6)


def test_empty_sample_message_names_the_key_and_what_the_corpus_has():
    from synthir.sampling import empty_sample_message

    ps = [Passage(id=f"d{i}", lang="de", text="x" * 100) for i in range(118)]
    ps += [Passage(id=f"u{i}", lang="und", text="1" * 100) for i in range(2)]
    cfg = SampleConfig(languages=["en", "fr"])
    res = sample_passages(iter(ps), cfg, random.Random(0))
    assert not res.passages
    assert empty_sample_message(cfg, res, detected=True) == \
        "sample.languages [en, fr] matched 0 of 120 passages; detected: de 118, und 2"
    short = SampleConfig(min_chars=500)
    res = sample_passages(iter(ps), short, random.Random(0))
    msg = empty_sample_message(short, res, detected=False)
    assert msg.startswith("sampling left 0 of 120 passages: sample.min_chars=500: 120 (too_short_for_sample)")
    assert "passage lengths 100..100 chars" in msg and "languages: de 118, und 2" in msg
