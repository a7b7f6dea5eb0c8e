"""`synthir filter` on planted pairs over a planted corpus, with the real multilingual USE
embedder, a real FAISS index and real lingua: every planted problem is caught with its reason,
and mining never returns the positive's near-duplicate (a false negative)."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from datasets import load_dataset

from synthir.cli import main

pytestmark = pytest.mark.slow

CORPUS = {
    "eiffel": "The Eiffel Tower is a wrought-iron lattice tower on the Champ de Mars in Paris. It was completed in 1889 as the entrance arch of the World's Fair.",
    "eiffel-copy": "The Eiffel Tower is a wrought-iron lattice tower on the Champ de Mars in Paris; it was completed in 1889 as the entrance arch to the World's Fair.",
    "wall": "The Great Wall of China is a series of fortifications built across the historical northern borders of ancient Chinese states.",
    "photo": "Photosynthesis is the process by which green plants use sunlight, water and carbon dioxide to produce glucose and oxygen.",
    "volcano": "Mount Etna, on the east coast of Sicily, is one of the most active volcanoes in the world and is in an almost constant state of activity.",
    "nile": "The Nile is a major north-flowing river in northeastern Africa; it flows into the Mediterranean Sea and is about 6,650 km long.",
    "bach": "Johann Sebastian Bach was a German composer of the Baroque period, known for the Brandenburg Concertos and the Mass in B minor.",
    "everest": "Mount Everest, in the Himalayas on the border of Nepal and China, is Earth's highest mountain above sea level at 8,849 metres.",
    "louvre": "Le musée du Louvre, à Paris, est le musée d'art le plus visité au monde ; il occupe l'ancien palais royal du Louvre.",
    "curie": "Marie Curie est une physicienne et chimiste, pionnière de la radioactivité, et la première personne à recevoir deux prix Nobel.",
    "rhone": "Le Rhône est un fleuve qui prend sa source en Suisse, traverse le lac Léman puis Lyon et se jette dans la Méditerranée.",
    "chess": "Chess is a board game for two players played on a checkered board with 64 squares arranged in an eight-by-eight grid.",
    "penicillin": "Penicillin was discovered in 1928 by Alexander Fleming, who noticed that a mould killed the bacteria in a culture dish.",
    "moon": "The Moon is Earth's only natural satellite; it orbits at an average distance of about 384,400 kilometres.",
}
PAIRS = [
    {"query": "when was the eiffel tower completed", "passage_id": "eiffel"},                  # kept
    {"query": "who composed the brandenburg concertos", "passage_id": "bach"},                 # kept
    {"query": "quel est le musée d'art le plus visité", "passage_id": "louvre"},                # kept (fr)
    {"query": "The Great Wall of China is a series of fortifications", "passage_id": "wall"},  # copy
    {"query": "Who composed the Brandenburg concertos?", "passage_id": "chess"},               # duplicate
    {"query": "How high is Mount Everest above sea level?", "passage_id": "penicillin"},       # duplicate, though first
    {"query": "how high is mount everest above sea level", "passage_id": "everest"},          # kept: ranks its passage
    {"query": "Wie hoch ist der höchste Berg der Welt und wo liegt er genau",                  # wrong language
     "passage_id": "everest", "language": "fr"},
    {"query": "how do green plants turn sunlight into glucose", "passage_id": "volcano"},      # round trip
    {"query": "", "passage_id": "nile"},                                                       # empty
    {"query": "how long is the amazon", "passage_id": "amazon"},                               # unknown passage
    {"query": "how far away is the moon from earth", "passage_id": "moon"},                    # in the eval set
]
EVAL_QUERIES = {"e1": "How far away is the Moon from Earth?", "e2": "who painted the mona lisa"}


@pytest.fixture(scope="module")
def filtered(tmp_path_factory):
    d = tmp_path_factory.mktemp("planted")
    corpus = d / "corpus.jsonl"
    corpus.write_text("".join(json.dumps({"id": k, "text": v, "lang": "fr" if k in ("louvre", "curie", "rhone") else "en"},
                                         ensure_ascii=False) + "\n" for k, v in CORPUS.items()), encoding="utf-8")
    pairs = d / "pairs.jsonl"
    pairs.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in PAIRS), encoding="utf-8")
    beir = d / "eval-beir"
    (beir / "qrels").mkdir(parents=True)
    (beir / "corpus.jsonl").write_text(json.dumps({"_id": "m", "title": "", "text": "Mona Lisa"}) + "\n")
    (beir / "queries.jsonl").write_text("".join(json.dumps({"_id": k, "text": v}) + "\n"
                                                for k, v in EVAL_QUERIES.items()))
    cfg = d / "cfg.yaml"
    cfg.write_text(f"""
name: planted
contamination: {{beir_dirs: [{beir}]}}
corpus: {{path: {corpus}, fields: {{title: null}}}}
languages: [en, fr]
roundtrip: {{top_k: 2}}
mining: {{num_negatives: 3, range_max: 10, relative_margin: null}}
""", encoding="utf-8")
    out = d / "out"
    assert main(["filter", str(pairs), str(cfg), "--out", str(out), "--no-progress"]) == 0
    return out


def test_each_planted_problem_is_caught_with_its_reason(filtered):
    rejected = load_dataset(str(filtered), "rejected")["train"]
    by_query = {r["raw"]: (r["stage"], r["reason"]) for r in rejected}
    assert by_query["The Great Wall of China is a series of fortifications"] == ("filter", "copied_from_passage")
    assert by_query["Who composed the Brandenburg concertos?"] == ("filter", "near_duplicate")
    # of one question written for two passages, the copy whose passage the search ranks best
    assert by_query["How high is Mount Everest above sea level?"] == ("filter", "near_duplicate")
    everest = next(r for r in rejected if r["raw"].startswith("How high"))
    assert "kept for passage everest (source rank 1)" in everest["detail"]
    assert by_query["Wie hoch ist der höchste Berg der Welt und wo liegt er genau"] == ("filter", "wrong_language")
    assert by_query["how do green plants turn sunlight into glucose"] == ("roundtrip", "source_not_in_top_k")
    assert by_query[""] == ("filter", "empty")
    assert by_query["how long is the amazon"] == ("filter", "unknown_passage")
    assert by_query["how far away is the moon from earth"] == ("filter", "eval_contamination")
    moon = next(r for r in rejected if r["reason"] == "eval_contamination")
    assert "eval query eval-beir:e1" in moon["detail"]
    pairs = load_dataset(str(filtered), "pairs")["train"]
    assert sorted(pairs["positive_id"]) == ["bach", "eiffel", "everest", "louvre"]
    assert all(1 <= r <= 2 for r in pairs["roundtrip_rank"])
    assert set(pairs["method"]) == {"byo"}


def test_mining_masks_the_positive_and_its_near_duplicate(filtered):
    negs = load_dataset(str(filtered), "hard_negatives")["train"]
    eiffel = [n for n in negs if n["positive_id"] == "eiffel"]
    assert len(eiffel) == 3
    assert "eiffel-copy" not in {n["negative_id"] for n in eiffel}  # the planted false negative
    assert all(n["negative_id"] != n["positive_id"] for n in negs)
    for n in negs:
        assert n["negative"] == CORPUS[n["negative_id"]] and n["score"] <= 1.0 and n["rank"] >= 1
    funnel = json.loads((filtered / "funnel.json").read_text())["funnel"]
    # eiffel-copy is masked as a duplicate of the positive (same MinHash cluster) or, failing
    # that, as a near-duplicate of its text
    m = funnel["mining"]
    assert m.get("skipped_duplicate_of_positive", 0) + m.get("skipped_near_duplicate_of_positive", 0) >= 1
    assert funnel["mining"]["skipped_positive"] >= 1
    triplets = load_dataset(str(filtered), "triplets")["train"]
    assert triplets.column_names == ["anchor", "positive", "negative"]
    assert len(triplets) == len(negs)
    assert {(t["anchor"], t["negative"]) for t in triplets} == {(n["query"], n["negative"]) for n in negs}
    card = (filtered / "README.md").read_text()
    assert "Mined hard negatives:" in card and "duplicate_of_positive" in card


def test_funnel_reports_language_agreement_and_rank_distribution(filtered):
    f = json.loads((filtered / "funnel.json").read_text())["funnel"]
    assert f["language_id"]["fr"]["checked"] == 2 and f["language_id"]["fr"]["agree"] == 1
    assert f["language_id"]["en"]["agree"] == f["language_id"]["en"]["checked"] >= 3
    assert sum(f["source_rank"].values()) == f["queries"]["filtered"] == 5
    assert Counter(f["dropped"]["filter"]) == Counter({"copied_from_passage": 1, "near_duplicate": 2,
                                                       "wrong_language": 1, "empty": 1, "unknown_passage": 1,
                                                       "eval_contamination": 1})
    assert f["contamination"]["queries_dropped"] == 1 and f["contamination"]["eval_queries"] == 2


def test_empty_configs_are_not_published(filtered):
    card = (filtered / "README.md").read_text()
    assert "config_name: documents" not in card and "config_name: hard_negatives" in card
    assert not (filtered / "data" / "documents").exists()
    with pytest.raises(ValueError, match="documents"):
        load_dataset(str(filtered), "documents")


def test_bad_pairs_files_are_one_line_errors(tmp_path, capsys):
    cfg = tmp_path / "cfg.yaml"
    corpus = tmp_path / "c.jsonl"
    corpus.write_text(json.dumps({"id": "a", "text": "A passage long enough to be kept by ingest."}) + "\n")
    cfg.write_text(f"corpus: {{path: {corpus}}}\n")
    bad_parquet = tmp_path / "pairs.parquet"
    bad_parquet.write_bytes(b"not parquet at all")
    latin1 = tmp_path / "pairs.jsonl"
    latin1.write_bytes('{"query": "caf\xe9", "passage_id": "a"}\n'.encode("latin-1"))
    for path, msg in [(tmp_path / "missing.jsonl", "pairs file not found"),
                      (bad_parquet, "is not readable Parquet"), (latin1, "is not UTF-8 JSONL")]:
        assert main(["filter", str(path), str(cfg), "--out", str(tmp_path / "out"), "--no-progress"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and msg in err[0]


def test_triplets_train_a_sentence_transformer_offline(filtered, tmp_path):
    """One optimiser step of the packaged MiniLM on the published triplets: the columns are
    what SentenceTransformerTrainer expects (anchor, positive, negative)."""
    import torch
    from sentence_transformers import (SentenceTransformer, SentenceTransformerTrainer,
                                       SentenceTransformerTrainingArguments)
    from sentence_transformers.sentence_transformer import losses  # 6.x's path (the top-level one warns)

    from synthir.embed.st import model_source

    model = SentenceTransformer(model_source("minilm"), device="cpu")
    before = [p.detach().clone() for p in model.parameters()]
    train = load_dataset(str(filtered), "triplets", split="train")
    args = SentenceTransformerTrainingArguments(output_dir=str(tmp_path / "st"), max_steps=1,
                                               per_device_train_batch_size=4, report_to="none",
                                               save_strategy="no", use_cpu=True, learning_rate=1e-4)
    trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=train,
                                         loss=losses.MultipleNegativesRankingLoss(model))
    out = trainer.train()
    assert out.global_step == 1 and out.training_loss > 0
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))
