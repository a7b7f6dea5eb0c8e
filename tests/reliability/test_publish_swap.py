"""All-or-nothing publish, for real: a `synthir publish` subprocess is SIGKILLed at every step
of the switch (fault points in synthir.publish.swap), and after each kill the dataset a user
loads is wholly the old one or wholly the new one; the next publish completes and leaves one
version. Every state a reader can meet lies between two of these steps."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from synthir.publish.hf import publish
from synthir.publish.swap import ENTRIES, published_dir
from tests.conftest import REPO
from tests.planted import make_planted_run
from tests.reliability.conftest import whole_dataset

NEW = ["--set", "output.dev_fraction=0", "--set", "output.license=mit"]
STEPS = ["publish:written", "publish:link-made", "publish:switched", "publish:linked"]
LEGACY_STEPS = ["publish:link-made", "publish:adopted", "publish:exchanged-data", "publish:exchanged-beir"]


def _publish(root: Path, fault: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": f"{REPO / 'src'}{os.pathsep}{REPO}"}
    env.pop("SYNTHIR_FAULT", None)
    if fault:
        env["SYNTHIR_FAULT"] = fault
    return subprocess.run([sys.executable, "-m", "synthir.cli", "publish", str(root), *NEW], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=300)


def _one_version(root: Path) -> None:
    from synthir.rundir import RunDir

    left = sorted(p.name for p in published_dir(RunDir(root)).iterdir())
    assert len(left) == 2 and "current" in left, left  # current + the one version it names
    assert not [p for p in root.iterdir() if p.name.endswith(".synthir-link")]
    assert all((root / n).is_symlink() for n in ENTRIES)


def _make_legacy(root: Path) -> None:
    """Turn the published layout into the one an older synthir wrote: real files at the root."""
    for name in ENTRIES:
        target = (root / name).resolve()
        (root / name).unlink()
        (shutil.copytree if target.is_dir() else shutil.copy2)(target, root / name)
    shutil.rmtree(root / ".synthir" / "published")


@pytest.mark.parametrize("legacy", [False, True], ids=["versions", "older-layout"])
def test_kill_at_every_step_of_the_switch_leaves_old_or_new(tmp_path, legacy):
    steps = LEGACY_STEPS if legacy else STEPS
    seen = []
    for step in steps:
        root = tmp_path / step.replace(":", "-")
        cfg, paths, _, _ = make_planted_run(root)
        publish(cfg, paths)
        if legacy:
            _make_legacy(root)
        assert whole_dataset(root) == "old"
        killed = _publish(root, fault=step)
        assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
        seen.append(whole_dataset(root))  # old or new, and whole
        done = _publish(root)
        assert done.returncode == 0, done.stderr[-2000:]
        assert whole_dataset(root) == "new"
        _one_version(root)  # stale and half-written versions cleaned
    assert "old" in seen and (legacy or "new" in seen)
