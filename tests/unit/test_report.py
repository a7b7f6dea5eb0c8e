"""The run summary: large skip reasons, why nothing was published, and the exit code."""

import json

from synthir.cli import EMPTY_EXIT, main
from synthir.io.files import write_json_atomic, write_jsonl_atomic
from synthir.publish.hf import publish
from synthir.report import empty_reason, large_skips
from tests.planted import make_planted_run


def funnel(**over):
    f = {"ingest": {"read": 10, "kept": 10}, "sample": {"seen": 10, "sampled": 4, "skipped": {}},
         "queries": {"prompts": 8, "generated": 8, "parsed": 8, "filtered": 8, "roundtrip_kept": 0},
         "dropped": {}, "documents": {}, "source_rank": {"1": 0, "2": 0, ">10": 8}}
    f.update(over)
    return f


def test_large_skips_are_named_with_their_share():
    f = funnel(sample={"seen": 120, "sampled": 2, "skipped": {"language_not_sampled": 118}},
               dropped={"parse": {"wrong_language": 5, "empty": 1}, "filter": {"near_duplicate": 2}})
    assert large_skips(f) == ["  ! sample: language_not_sampled skipped 118 of 120 passages (98%)",
                              "  ! parse: wrong_language skipped 5 of 8 completions (62%)"]


def test_empty_reason_is_the_first_stage_that_ended_with_nothing():
    q = {"prompts": 8, "generated": 0, "parsed": 0, "filtered": 0, "roundtrip_kept": 0}
    assert empty_reason(funnel(queries=q, dropped={"generate": {"llm_error": 8}})) == \
        "every LLM call failed (llm_error 8); check llm.*"
    q = {**q, "generated": 8}
    assert empty_reason(funnel(queries=q, dropped={"parse": {"copied_example": 6, "empty": 2}})) == \
        "no completion parsed into a query (copied_example 6, empty 2)"
    q = {**q, "parsed": 8}
    assert "query filters dropped every query (near_duplicate 8)" in \
        empty_reason(funnel(queries=q, dropped={"filter": {"near_duplicate": 8}}))
    assert empty_reason(funnel(), top_k=5).startswith(
        "no query found its source passage in the top 5 of the round trip (source ranks >10: 8)")
    # the round trip kept queries and the judge dropped them all: the judge is named, with its warning
    q = {**q, "filtered": 8, "roundtrip_kept": 3, "judge_kept": 0}
    judged = funnel(queries=q, dropped={"judge": {"judge_rejected_source": 3}},
                    judge={"in": 3, "kept": 0, "cut_warning": "judge: the median source P(yes) is 0.43 …"})
    assert empty_reason(judged, top_k=5) == ("the judge dropped every query the round trip kept "
                                             "(judge_rejected_source 3); judge: the median source P(yes) is 0.43 …")
    del judged["judge"]["cut_warning"]
    assert empty_reason(judged).endswith("(judge_rejected_source 3); see the card's judge section")


def test_zero_pairs_exit_non_zero_unless_allowed(tmp_path, capsys):
    cfg, paths, _, _ = make_planted_run(tmp_path / "out")
    write_jsonl_atomic(paths.shard(0).kept, [])
    publish(cfg, paths)
    assert main(["publish", str(paths.root)]) == EMPTY_EXIT
    out = capsys.readouterr().out.strip().splitlines()
    assert out[-1].startswith("synthir: 0 pairs published: ")
    assert main(["publish", str(paths.root), "--allow-empty"]) == 0


def test_republish_refuses_a_corpus_edited_since_ingest(tmp_path, capsys):
    cfg, paths, _, _ = make_planted_run(tmp_path / "out")
    corpus = tmp_path / "out" / "unused.jsonl"  # the planted config's corpus path
    corpus.write_text('{"id": "a", "text": "first version of the corpus"}\n')
    from synthir.io.corpus import source_fingerprint

    marker = json.loads(paths.marker("ingest").read_text())
    write_json_atomic(paths.marker("ingest"), {**marker, "source_sha256": source_fingerprint(cfg.corpus)})
    publish(cfg, paths)
    assert main(["publish", str(paths.root)]) == 0
    corpus.write_text('{"id": "a", "text": "edited in place"}\n')
    assert main(["publish", str(paths.root)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "changed since this run ingested it" in err


def test_an_os_error_on_a_path_is_one_line_and_exit_2(tmp_path, capsys):
    """`synthir wiki-corpus --out` under a dangling link raised FileExistsError as a traceback."""
    from synthir.cli import main

    (tmp_path / "demo").symlink_to(tmp_path / "nowhere")  # a link whose target was removed
    code = main(["wiki-corpus", "--langs", "en", "--out", str(tmp_path / "demo" / "corpus.jsonl")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1, err
    assert err.startswith("synthir: error: ") and "File exists" in err
