"""What each --loss trains on (synthir.eval.train_data): triplets / pairs for mnrl and gist, the
`distill` config for marginmse (planted here; the teacher stage publishes it), several datasets
concatenated, `--max-train-rows`' nested sample, and one-line errors for a dataset that cannot
train."""

from __future__ import annotations

from pathlib import Path

import pytest

from synthir.cli import main
from synthir.errors import ConfigError, InputError
from synthir.eval.train import TrainOptions
from synthir.eval.train_data import distill_rows, load_training
from synthir.publish.hf import publish
from tests.planted import make_planted_run
from tests.planted_distill import add_distill_config, distill_rows_from_triplets


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    cfg, paths, _, _ = make_planted_run(tmp_path_factory.mktemp("planted") / "out", dev_fraction=0.0)
    publish(cfg, paths)
    return paths.root


@pytest.fixture(scope="module")
def with_distill(tmp_path_factory):
    cfg, paths, _, _ = make_planted_run(tmp_path_factory.mktemp("planted-distill") / "out", dev_fraction=0.0)
    publish(cfg, paths)
    add_distill_config(paths.root, distill_rows_from_triplets(paths.root))
    return paths.root


def test_mnrl_default_trains_on_pairs_auto_on_triplets(published):
    sets = load_training(published, TrainOptions())
    assert list(sets) == ["mnrl"] and sets["mnrl"][0] == "pairs"
    assert sets["mnrl"][1].column_names == ["anchor", "positive"]
    trip = load_training(published, TrainOptions(config="auto"))["mnrl"]
    assert trip[0] == "triplets" and trip[1].column_names == ["anchor", "positive", "negative"] and len(trip[1]) == 6


def test_gist_trains_on_the_mnrl_rows(published):
    sets = load_training(published, TrainOptions(loss="gist"))
    assert list(sets) == ["gist"] and sets["gist"][0] == "pairs"
    assert sets["gist"][1].column_names == ["anchor", "positive"]
    assert load_training(published, TrainOptions(loss="gist", config="auto"))["gist"][0] == "triplets"


def test_marginmse_reads_the_planted_distill_config(with_distill):
    ds = distill_rows(with_distill)
    assert ds.column_names == ["query", "positive", "negative", "label"] and len(ds) == 6
    assert ds[0]["label"] == pytest.approx(0.5)
    assert list(load_training(with_distill, TrainOptions(loss="marginmse"))) == ["marginmse"]
    both = load_training(with_distill, TrainOptions(loss="mnrl+marginmse"))
    assert {k: v[0] for k, v in both.items()} == {"mnrl": "pairs", "marginmse": "distill"}
    auto = load_training(with_distill, TrainOptions(loss="mnrl+marginmse", config="auto"))
    assert {k: v[0] for k, v in auto.items()} == {"mnrl": "triplets", "marginmse": "distill"}


def _copy(src: Path, dest: Path, drop_config: str | None = None) -> Path:
    """A copy of a published dataset; `drop_config`: its card no longer lists that config."""
    import shutil

    shutil.copytree(src, dest)
    if drop_config:
        card = dest / "README.md"
        text = card.read_text(encoding="utf-8")
        card.write_text(text.replace(f"config_name: {drop_config}\n", f"config_name: {drop_config}-gone\n"),
                        encoding="utf-8")
    return dest


def test_several_datasets_train_on_all_their_rows_in_order(published, with_distill, tmp_path):
    one = load_training(published, TrainOptions())["mnrl"][1]
    other = _copy(published, tmp_path / "other")
    config, rows = load_training([published, other], TrainOptions())["mnrl"]
    assert config == "pairs" and len(rows) == 2 * len(one) == 8
    assert rows.to_list() == one.to_list() + one.to_list()
    # --max-train-rows caps each dataset, not their union
    assert len(load_training([published, other], TrainOptions(max_rows=3))["mnrl"][1]) == 6
    both = load_training([with_distill, _copy(with_distill, tmp_path / "d2")], TrainOptions(loss="mnrl+marginmse"))
    assert {k: (v[0], len(v[1])) for k, v in both.items()} == {"mnrl": ("pairs", 8), "marginmse": ("distill", 12)}
    with pytest.raises(InputError, match=f"{published}.* no `distill` config"):  # names the dir that lacks it
        load_training([with_distill, published], TrainOptions(loss="mnrl+marginmse"))


def test_several_datasets_refuse_one_given_twice_or_rows_that_differ(published, tmp_path, capsys):
    with pytest.raises(ConfigError, match="given twice"):
        load_training([published, published / "."], TrainOptions())
    pairs_only = _copy(published, tmp_path / "pairs-only", drop_config="triplets")
    with pytest.raises(ConfigError, match="`triplets` rows but .* `pairs` rows: pass --config pairs"):
        load_training([published, pairs_only], TrainOptions(config="auto"))
    assert len(load_training([published, pairs_only], TrainOptions(config="pairs"))["mnrl"][1]) == 8
    capsys.readouterr()  # the loads' progress bars
    code = main(["eval", str(published), str(pairs_only), "--beir", str(tmp_path), "--out", str(tmp_path / "e"),
                 "--config", "auto"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "--config pairs" in err, err
    assert not (tmp_path / "e").exists()  # refused before any model or output


def test_missing_distill_config_is_a_one_line_input_error(published, tmp_path, capsys):
    with pytest.raises(InputError, match="no `distill` config .*teacher.enabled: true"):
        load_training(published, TrainOptions(loss="marginmse"))
    code = main(["eval", str(published), "--beir", str(tmp_path), "--out", str(tmp_path / "e"),
                 "--loss", "mnrl+marginmse"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "distill" in err and "teacher" in err
    assert not (tmp_path / "e").exists()  # failed before any model or output


def test_distill_config_without_a_label_column(tmp_path, published):
    import shutil

    root = tmp_path / "ds"
    shutil.copytree(published, root)
    from tests import planted_distill

    old = planted_distill.DISTILL_SCHEMA
    planted_distill.DISTILL_SCHEMA = old.remove(old.get_field_index("label"))
    try:
        add_distill_config(root, [{"query": "q", "positive": "p", "negative": "n"}])
    finally:
        planted_distill.DISTILL_SCHEMA = old
    with pytest.raises(InputError, match="lacks column.*label"):
        distill_rows(root)


def test_max_train_rows_is_one_fixed_nested_sample_of_each_set(with_distill):
    from synthir.cli import build_parser, train_options

    def rows(**kw):
        return [tuple(r.values()) for r in load_training(with_distill, TrainOptions(config="auto", **kw))["mnrl"][1]]

    full = rows()
    assert len(full) == 6 and len(set(full)) == 6  # triplets: (anchor, positive, negative), all distinct
    two, four, again = rows(max_rows=2, seed=0), rows(max_rows=4, seed=7), rows(max_rows=4, seed=0)
    assert len(two) == 2 and len(four) == 4
    assert again == four  # the training seed does not change the sample
    assert set(two) < set(four) < set(full)  # nested caps, real rows
    assert four == [r for r in full if r in set(four)]  # published order kept
    assert four != full[:4] or two != full[:2]  # a shuffle, not the head
    assert load_training(with_distill, TrainOptions(max_rows=99))["mnrl"][1]["anchor"] == \
        load_training(with_distill, TrainOptions())["mnrl"][1]["anchor"]  # a cap above the size: all
    both = load_training(with_distill, TrainOptions(loss="mnrl+marginmse", max_rows=3))
    assert len(both["mnrl"][1]) == 3 and len(both["marginmse"][1]) == 3 and len(distill_rows(with_distill)) == 6
    args = build_parser().parse_args(["eval", "ds", "--beir", "b", "--out", "o", "--max-train-rows", "500"])
    assert train_options(args).max_rows == 500
    assert train_options(build_parser().parse_args(["eval", "ds", "--beir", "b", "--out", "o"])).max_rows == 0


def test_rows_rewritten_in_place_are_read_again_not_taken_from_the_cache(tmp_path, published):
    """`load_dataset(dir, config)` caches a local dataset by dir name and card: a pairs file
    rewritten under the same name would train on the cached rows. eval reads the card's files."""
    import shutil

    import pyarrow.parquet as pq

    root = tmp_path / "ds"
    shutil.copytree(published, root)
    full = load_training(root, TrainOptions())["mnrl"][1]
    (f,) = (root / "data" / "pairs").glob("*.parquet")
    table = pq.read_table(f)
    assert len(full) == table.num_rows > 2
    pq.write_table(table.slice(0, 2), f)  # rows dropped by hand, the file name kept
    assert len(load_training(root, TrainOptions())["mnrl"][1]) == 2
    f.unlink()
    with pytest.raises(InputError, match=r"the `pairs` file data/pairs/.*\.parquet is missing"):
        load_training(root, TrainOptions())
    with pytest.raises(InputError, match="names no `dev` file for the `pairs` config"):
        load_training(published, TrainOptions(split="dev"))


def test_a_config_is_read_from_a_str_path_and_a_dir_without_a_card_is_one_line(tmp_path, published):
    from synthir.eval.train_data import load_config

    assert len(load_config(str(published), "pairs", "train")) > 0
    with pytest.raises(InputError, match="no README.md"):
        load_config(tmp_path, "pairs", "train")
