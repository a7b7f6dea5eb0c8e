"""benchmarks/per_app.py: a combined GNOME-help eval dir sliced by the app in each query id."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from synthir.eval.versus import per_query_record

from tests.benchmark_scripts import load_benchmark

per_app = load_benchmark("per_app")


def _write(d: Path, qids, base, synthetic_runs, human):
    def run(vals):
        return {"ndcg@10": dict(zip(qids, vals))}
    arms = {"base": [run(base)], "synthetic": [run(v) for v in synthetic_runs]}
    if human is not None:
        arms["human"] = [run(human)]
    rec = per_query_record("/x/set", "test", qids, list(range(len(synthetic_runs))), arms)
    d.mkdir()
    (d / "per_query.json").write_text(json.dumps(rec))


def test_slices_by_app_and_keeps_no_local_path(tmp_path):
    qids = ["q:fr:totem/a", "q:fr:totem/b", "q:fr:cheese/c", "q:fr:cheese-extra/d"]
    _write(tmp_path / "run", qids, [0.0, 0.5, 1.0, 0.2], [[1.0, 1.0, 0.0, 0.2], [0.0, 1.0, 0.0, 0.4]],
           [0.5, 0.5, 1.0, 0.2])
    s = per_app.per_app(tmp_path / "run", resamples=100)
    assert list(s) == ["cheese", "cheese-extra", "totem"]  # ':cheese/' does not also take cheese-extra
    assert s["totem"]["vs_base"]["queries"] == 2
    assert s["totem"]["vs_base"]["a_mean"] == pytest.approx((0.5 + 1.0) / 2)  # seeds averaged per question
    assert s["totem"]["vs_base"]["delta"]["mean"] == pytest.approx(0.5, abs=1e-4)
    assert s["cheese"]["vs_human"]["delta"]["mean"] == pytest.approx(-1.0, abs=1e-4)
    assert s["cheese-extra"]["vs_base"]["delta"]["mean"] == pytest.approx(0.1, abs=1e-4)
    assert str(tmp_path) not in json.dumps(s)
    assert "| totem | 2 | 0.250 | 0.750 | 0.500 | +0.500" in per_app.table(s)


def test_ids_without_an_app_and_dirs_without_human_arm_stop(tmp_path):
    with pytest.raises(SystemExit, match="--combine-apps"):
        per_app.apps_of(["q:fr:gedit/a", "plainid"])
    _write(tmp_path / "nohuman", ["q:fr:totem/a"], [0.1], [[0.2]], None)
    with pytest.raises(SystemExit, match="no human arm"):
        per_app.per_app(tmp_path / "nohuman")


def test_a_dir_without_scores_is_one_line(tmp_path):
    with pytest.raises(SystemExit, match="no per_query.json"):
        per_app.per_app(tmp_path)


def test_a_dotted_tag_keeps_its_whole_name(tmp_path, monkeypatch):
    _write(tmp_path / "run", ["q:de:totem/a"], [0.5], [[1.0]], [0.5])
    monkeypatch.setattr(per_app, "ROOT", tmp_path)
    (tmp_path / "benchmarks" / "results").mkdir(parents=True)
    assert per_app.main([str(tmp_path / "run"), "--tag", "de-1.5b", "--bootstrap", "50"]) == 0
    assert sorted(p.name for p in (tmp_path / "benchmarks" / "results").iterdir()) == [
        "slice-de-1.5b-per-app.json", "slice-de-1.5b-per-app.md"]
