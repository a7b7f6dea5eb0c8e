"""Shared by the benchmark scripts that time each setting in its own process (parallel_samples,
train_precision): the script runs itself again with the setting's arguments, so no model of
another setting stays loaded beside it and each timing starts from the same state.

`benchmarks/` is a folder of scripts, not a package: a script imports this module after putting
its own folder on `sys.path`, as the users of published.py do.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any


def run_isolated(script: str, args: list[str], what: str) -> dict[str, Any]:
    """Run `script` with `args` in a fresh Python process and return the JSON object on the last
    line of its stdout. When it fails: SystemExit naming `what` and the last line it wrote to
    stderr (its one-line error), or "failed" when it wrote none."""
    res = subprocess.run([sys.executable, script, *args], capture_output=True, text=True, check=False)
    if res.returncode != 0:
        raise SystemExit(f"{what}: {(res.stderr.strip().splitlines() or ['failed'])[-1]}")
    return json.loads(res.stdout.strip().splitlines()[-1])
