"""benchmarks/parallel_samples.py: the table of settings (speed-up and same-sample counts
against the first setting) and its one-line error for a dir that is not a run."""

from __future__ import annotations

import subprocess
import sys

from tests.benchmark_scripts import load_benchmark
from tests.conftest import REPO

parallel_samples = load_benchmark("parallel_samples")


def _row(p, seconds, texts):
    return {"parallel_samples": p, "prompts": 2, "samples": len(texts), "generate_seconds": seconds,
            "seconds_per_prompt": seconds / 2, "completion_tokens": 10, "parsed": len(texts), "texts": texts}


def test_table_compares_each_setting_with_the_first():
    md = parallel_samples.table([_row(1, 40.0, ["a", "b", "c", "d"]), _row(8, 16.0, ["a", "x", "c", "y"])])
    lines = md.splitlines()
    assert lines[2].startswith("| 1 | 2 | 4 | 40.0 | 20.0 | 1.00× |") and lines[2].endswith("| 4 of 4 |")
    assert lines[3].startswith("| 8 | 2 | 4 | 16.0 | 8.0 | 2.50× |") and lines[3].endswith("| 2 of 4 |")


def test_a_dir_that_is_not_a_run_is_one_line(tmp_path):
    res = subprocess.run([sys.executable, str(REPO / "benchmarks/parallel_samples.py"), "--run", str(tmp_path)],
                         capture_output=True, text=True)
    assert res.returncode != 0
    assert res.stderr.strip().splitlines() == [f"--run: no .synthir/config.json under {tmp_path} "
                                               "(give a synthir run's output dir)"]
