"""The ingest stage: detected languages, clusters, an empty sample stops the run, and a corpus
edited in place is re-ingested (stale shards removed)."""

import json

import pytest

from data_schemas.records import Passage
from synthir.config import load_config
from synthir.errors import InputError
from synthir.rundir import prepare_run, read_records
from synthir.stages import run_stage
from synthir.stages.ingest import INGEST
from tests.conftest import REPO

FR = ["Le Rhône est un fleuve qui prend sa source dans les Alpes suisses et se jette dans la Méditerranée.",
      "La tour Eiffel est une tour de fer puddlé construite par Gustave Eiffel et ses collaborateurs pour "
      "l'Exposition universelle de Paris de 1889. Située à l'extrémité nord-ouest du parc du Champ-de-Mars "
      "en bordure de la Seine, elle est devenue le symbole de la capitale française.",
      "Le camembert est un fromage à pâte molle et à croûte fleurie originaire de Normandie.",
      "Victor Hugo est un poète, dramaturge et romancier français du dix-neuvième siècle.",
      "Marseille est la deuxième commune de France par sa population et un grand port.",
      "La baguette est un pain de forme allongée dont la croûte est croustillante."]


def write_corpus(path, texts):
    path.write_text("".join(json.dumps({"id": f"p{i}", "text": t}, ensure_ascii=False) + "\n"
                            for i, t in enumerate(texts)), encoding="utf-8")


def config(corpus, out, *sets):
    return load_config(REPO / "configs" / "demo.yaml",
                       [f"corpus.path={corpus}", "sample.min_chars=20", "shard_size=2", *sets], out)


def test_languages_detected_clusters_found_and_reingest_on_edit(tmp_path):
    corpus = tmp_path / "fr.jsonl"
    write_corpus(corpus, FR + [FR[0].upper(), FR[1].replace("puddlé", "forgé")])
    cfg = config(corpus, tmp_path / "out", "sample.languages=[fr]", "languages=[fr]")
    run = prepare_run(cfg, {})
    stats = run_stage(INGEST, cfg, run)
    assert stats["languages"]["detected"] == {"fr": 8} and stats["languages"]["mean_confidence"]["fr"] > 0.5
    assert stats["clusters"]["clusters"] == 2 and stats["clusters"]["duplicates"] == 2
    assert stats["sample"]["sampled"] == 6 and stats["sample"]["skipped"] == {"duplicate_text": 1, "near_duplicate": 1}
    assert len(run.shard_dirs()) == 3 and not stats["reingested"]
    assert stats["sample"]["cut_for_prompt"] == 0
    passages = [p for s in run.shard_dirs() for p in read_records(s.passages, Passage)]
    assert {p.lang for p in passages} == {"fr"} and all(p.lang_confidence > 0.5 for p in passages)
    assert run_stage(INGEST, cfg, run) == stats  # unchanged corpus: not redone

    write_corpus(corpus, FR[:3])  # edited in place: fewer passages
    again = run_stage(INGEST, cfg, run)
    assert again["reingested"] and again["source_sha256"] != stats["source_sha256"]
    assert again["sample"]["sampled"] == 3 and len(run.shard_dirs()) == 2  # stale shard 00002 removed


def test_sampling_nothing_is_one_line_naming_the_key(tmp_path):
    corpus = tmp_path / "de.jsonl"
    write_corpus(corpus, ["Der Rhein entspringt in den Alpen und mündet in die Nordsee bei Rotterdam.",
                          "Johann Sebastian Bach war ein deutscher Komponist des Barock.", "12345 67890 11121314"])
    cfg = config(corpus, tmp_path / "out")
    with pytest.raises(InputError) as exc:
        run_stage(INGEST, cfg, prepare_run(cfg, {}))
    assert str(exc.value) == "sample.languages [en, fr] matched 0 of 3 passages; detected: de 2, und 1"
    assert not (tmp_path / "out" / ".synthir" / "ingest.done.json").exists()


def test_given_languages_are_normalised_not_detected(tmp_path):
    corpus = tmp_path / "c.jsonl"
    corpus.write_text("".join(json.dumps({"id": f"p{i}", "text": t, "lang": "FR-fr"}, ensure_ascii=False) + "\n"
                              for i, t in enumerate(FR)), encoding="utf-8")
    cfg = config(corpus, tmp_path / "out", "sample.languages=[fr]")
    stats = run_stage(INGEST, cfg, prepare_run(cfg, {}))
    assert stats["languages"] == {"given": {"fr": 6}, "detected": {}, "mean_confidence": {}}


@pytest.mark.parametrize("too_long,sampled,cut,skipped", [("head", 6, 1, {}), ("skip", 5, 0, {"too_long_for_sample": 1})])
def test_a_passage_over_sample_max_chars(tmp_path, too_long, sampled, cut, skipped):
    """The Eiffel passage (the one over 150 chars): sampled and counted in cut_for_prompt
    (prompts show its head), or skipped and counted as too_long_for_sample."""
    corpus = tmp_path / "fr.jsonl"
    write_corpus(corpus, FR)
    cfg = config(corpus, tmp_path / "out", "sample.languages=[fr]", "languages=[fr]", "sample.max_chars=150",
                 f"sample.too_long={too_long}")
    stats = run_stage(INGEST, cfg, prepare_run(cfg, {}))
    assert stats["sample"]["sampled"] == sampled and stats["sample"]["cut_for_prompt"] == cut
    assert stats["sample"]["skipped"] == skipped
