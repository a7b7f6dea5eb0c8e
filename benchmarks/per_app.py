"""Per-app slices of a combined GNOME-help dev set: where does the synthetic student gain or lose?

    .venv/bin/python benchmarks/per_app.py --tag NAME --about "what was run" EVAL_DIR

EVAL_DIR is a `synthir eval` dir with a human split and per_query.json, on a dev set built with
`synthir dev-set --source gnome-help --combine-apps` (its query ids read `q:LANG:APP/PAGE`). For
every app among the test queries it bootstraps synthetic − base and synthetic − human over that
app's questions (`synthir eval-compare --queries ':APP/'`, eval/versus.py), and writes
benchmarks/results/slice-NAME-per-app.json and .md. A handful of questions per app gives wide
intervals: read the slices to see where a gain comes from, not as results of their own.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

from synthir.errors import InputError
from synthir.eval.versus import compare_evals, load_per_query

ROOT = Path(__file__).resolve().parents[1]
_APP = re.compile(r"^q:[^:]+:([^/]+)/")


def apps_of(qids: list[str]) -> list[str]:
    """The apps among test query ids `q:LANG:APP/PAGE`, sorted; an id of another
    shape is a one-line error (the dir was not built with --combine-apps)."""
    apps: set[str] = set()
    for q in qids:
        m = _APP.match(q)
        if m is None:
            raise SystemExit(f"query id {q!r} is not q:LANG:APP/PAGE: build the dev set with --combine-apps")
        apps.add(m.group(1))
    return sorted(apps)


def per_app(eval_dir: Path, resamples: int = 1000) -> dict[str, Any]:
    """{APP: {"vs_base": compare, "vs_human": compare}} for every app among the test queries."""
    try:
        rec = load_per_query(eval_dir)
    except InputError as e:  # no per_query.json, or not one: a line, not a traceback
        raise SystemExit(str(e)) from None
    if "human" not in rec["arms"]:
        raise SystemExit(f"{eval_dir}: no human arm (evaluate with --human-split)")
    out: dict[str, Any] = {}
    for app in apps_of(sorted(rec["test_qids"])):
        sel = f":{re.escape(app)}/"
        out[app] = {other: compare_evals(eval_dir, eval_dir, arm="synthetic", arm_b=b, queries=sel,
                                         resamples=resamples)
                    for other, b in (("vs_base", "base"), ("vs_human", "human"))}
        for r in out[app].values():  # the dir's name, never a local absolute path
            r["a"] = r["b"] = eval_dir.resolve().name
    return out


def table(slices: dict[str, Any]) -> str:
    """Markdown: app, questions, base, synthetic, human, synthetic − base (CI), synthetic − human."""
    rows = ["| app | test q. | base | synthetic | human | synthetic − base (95% CI) | synthetic − human |",
            "|---|---:|---:|---:|---:|---|---:|"]
    for app, s in slices.items():
        vb, vh = s["vs_base"], s["vs_human"]
        d = vb["delta"]
        rows.append(f"| {app} | {vb['queries']} | {vb['b_mean']:.3f} | {vb['a_mean']:.3f} | {vh['b_mean']:.3f} | "
                    f"{d['mean']:+.3f} [{d['ci_low']:+.3f}, {d['ci_high']:+.3f}] | {vh['delta']['mean']:+.3f} |")
    return "\n".join(rows) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("eval_dir", type=Path)
    ap.add_argument("--tag", required=True)
    ap.add_argument("--about", default="")
    ap.add_argument("--bootstrap", type=int, default=1000)
    a = ap.parse_args(argv)
    slices = per_app(a.eval_dir, a.bootstrap)
    out = ROOT / "benchmarks" / "results" / f"slice-{a.tag}-per-app"  # a tag may hold dots (1.5b)
    Path(f"{out}.json").write_text(json.dumps({"about": a.about, "per_app": slices}, indent=2) + "\n")
    md = table(slices)
    Path(f"{out}.md").write_text(f"# Per-app slices: {a.tag}\n\n{a.about}\n\n{md}")
    print(md, end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
