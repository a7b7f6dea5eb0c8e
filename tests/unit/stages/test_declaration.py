"""The stage graph is declared once: names, scopes and files are consistent, runners hold no
stage names, and run_stage's marker contract (skip on same inputs, redo on changed inputs,
refuse undeclared outputs) holds for any stage."""

import ast
import json
from pathlib import Path

import pytest

from data_schemas.config import RunConfig
from synthir.rundir import FILES, RunDir, layout
from synthir.stages import BYO_STAGES, REPORTED, STAGES, Stage, run_stage

ROOT = Path(__file__).resolve().parents[3]


def test_stage_list_is_consistent():
    names = [s.name for s in STAGES]
    assert names == ["ingest", "index", "bootstrap", "probe", "generate", "filter", "roundtrip", "judge", "documents",
                     "verify", "mine", "teacher", "publish"]
    assert len({s.name for s in REPORTED}) == len(REPORTED)
    assert [s.name for s in BYO_STAGES][2:] == ["generate", "index", *names[5:]]  # no bootstrap pilot, no probe
    written = {f for s in STAGES + BYO_STAGES for f in s.writes}
    # config.json: prepare_run; lock / lock.json: synthir.lock; published/: synthir.publish.swap;
    # rounds.json: synthir.rounds (target mode); budget.json: synthir.budget (the ledger)
    assert written <= set(FILES) and set(FILES) - written == {"config", "lock", "lock_info", "published",
                                                              "rounds", "budget"}
    for s in STAGES:  # every input is written by an earlier stage (or is the run config)
        earlier = {f for e in STAGES[:STAGES.index(s)] for f in e.writes}
        assert set(s.reads) <= earlier, s.name
    assert {p for p, _, _ in layout()} >= {".synthir/corpus.parquet", ".synthir/shards/NNNNN/kept.jsonl"}


def test_runners_name_no_stage_function():
    """The runners import only the list and the runner from synthir.stages, never a stage."""
    for path in (ROOT / "flows" / "generate.py", ROOT / "src" / "synthir" / "pipeline.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {(n.module, a.name) for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)
                    for a in n.names if (n.module or "").startswith("synthir.stages")}
        assert imported <= {("synthir.stages", x) for x in ("STAGES", "BY_NAME", "Stage", "run_stage")} | {
            ("synthir.stages.common", "make_llm")}, path.name
        names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        assert not names & {s.name.upper() for s in STAGES}, path.name


def test_undeclared_files_are_refused():
    with pytest.raises(ValueError, match="undeclared files"):
        Stage("x", "run", reads=("no_such_file",), writes=(), run=lambda ctx: {})
    with pytest.raises(ValueError, match="counts / rejected must name its outputs"):
        Stage("x", "shard", reads=(), writes=("kept",), run=lambda ctx: {}, rejected="filter_rejected")


def test_run_stage_skips_same_inputs_and_redoes_changed_ones(tmp_path):
    cfg = RunConfig.model_validate({"corpus": {"path": str(tmp_path / "c.jsonl")},
                                    "output": {"dir": str(tmp_path / "out")}})
    run = RunDir(tmp_path / "out")
    calls = []

    def copy(ctx):
        calls.append(1)
        ctx.sh.filtered.write_text(ctx.sh.queries.read_text())
        ctx.sh.filter_rejected.write_text("")
        return {"in": 1, "complete": len(calls) > 1}

    stage = Stage("copy", "shard", reads=("queries",), writes=("filtered", "filter_rejected"), run=copy)
    shard = run.shard(0)
    shard.base.mkdir(parents=True)
    shard.queries.write_text("a\n")
    first = run_stage(stage, cfg, run, shard)
    assert first["complete"] is False and first["stage"] == "copy" and len(calls) == 1
    second = run_stage(stage, cfg, run, shard)  # incomplete: redone
    assert second["complete"] is True and len(calls) == 2
    assert run_stage(stage, cfg, run, shard) == second and len(calls) == 2  # done: skipped
    assert json.loads(shard.marker("copy").read_text()) == second
    shard.queries.write_text("b\n")  # changed input: redone
    run_stage(stage, cfg, run, shard)
    assert len(calls) == 3 and shard.filtered.read_text() == "b\n"
    lazy = Stage("lazy", "shard", reads=(), writes=("kept",), run=lambda ctx: {})
    with pytest.raises(RuntimeError, match="did not write its declared outputs"):
        run_stage(lazy, cfg, run, shard)
    assert not shard.marker("lazy").exists()


def test_architecture_doc_tables_are_generated_from_the_declarations():
    from synthir.stages.describe import BEGIN, END, markdown

    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert text.split(BEGIN)[1].split(END)[0].strip() == markdown().strip()
