"""Duplicate clusters with the real datasketch MinHash LSH."""

from data_schemas.config import DedupConfig
from synthir.dedup import DuplicateFinder, shingles

BASE = ("The Danube is the second-longest river in Europe after the Volga. It flows through much of "
        "Central and Southeastern Europe, from the Black Forest into the Black Sea, and it passes "
        "through ten countries, more than any other river in the world, including four capitals.")
OTHER = ("Mount Kilimanjaro is a dormant volcano in Tanzania. It has three volcanic cones and is the "
         "highest mountain in Africa, rising about 4,900 metres from its base to the summit plateau.")


def finder(cfg=DedupConfig(), extra=()):
    f = DuplicateFinder(cfg)
    for pid, text in [("a", BASE), ("b", OTHER), *extra]:
        f.add(pid, text)
    return f.clusters()


def test_exact_duplicate_ignores_case_and_spacing():
    c = finder(extra=[("a2", "  " + BASE.upper().replace(" ", "   "))])
    assert c.cluster_of == {"a": "a", "a2": "a"} and c.kind == {"a": "exact"}


def test_near_duplicate_joins_the_first_passage_cluster():
    near = BASE.replace("second-longest", "2nd longest").replace("ten countries", "10 countries")
    c = finder(extra=[("x", OTHER.replace("dormant", "sleeping")), ("a3", near)])
    assert c.cluster_of == {"a": "a", "a3": "a", "b": "b", "x": "b"}
    assert c.kind == {"a": "near", "b": "near"} and c.same("a3", "a") and not c.same("a", "b")
    assert c.stats() == {"clusters": 2, "exact_clusters": 0, "near_clusters": 2,
                         "passages_in_clusters": 4, "duplicates": 2}


def test_related_but_different_passages_stay_apart():
    half = BASE.split(". ")[0] + ". " + OTHER
    assert finder(extra=[("h", half)]).cluster_of == {}


def test_threshold_and_switches():
    near = BASE.replace("second-longest", "2nd longest").replace("ten countries", "10 countries")
    assert finder(DedupConfig(threshold=0.95), [("n", near)]).cluster_of == {}
    assert finder(DedupConfig(near=False), [("n", near)]).cluster_of == {}
    assert finder(DedupConfig(enabled=False), [("e", BASE)]).cluster_of == {}


def test_short_texts_use_character_grams():
    assert all(len(s) == 5 for s in shingles("abcdefgh ij"))
    c = finder(extra=[("s1", "日本の首都は東京です。東京は世界で最も人口の多い都市圏の一つです。"),
                      ("s2", "日本の首都は東京です。東京は世界で最も人口の多い都市圏の一つです!")])
    assert c.same("s1", "s2")


def test_many_passages_in_batches():
    import random

    rng = random.Random(0)
    f = DuplicateFinder(DedupConfig())
    texts = [" ".join(f"w{rng.randrange(5000)}" for _ in range(40)) for _ in range(2500)]
    for i, t in enumerate(texts):
        f.add(f"p{i}", t)
    f.add("dup", texts[1234] + " end")
    c = f.clusters()
    assert c.cluster_of == {"p1234": "p1234", "dup": "p1234"}
