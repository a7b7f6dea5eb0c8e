"""The stage list and the run-dir layout as Markdown, generated from the declarations
(docs/architecture.md holds this text between its GENERATED markers; a test keeps it equal).

    python -m synthir.stages.describe docs/architecture.md     # rewrite the generated part
"""

from __future__ import annotations

import sys
from pathlib import Path

from synthir.rundir import FILES, layout
from synthir.stages import BYO_STAGES, STAGES

BEGIN, END = "<!-- GENERATED: python -m synthir.stages.describe -->", "<!-- END GENERATED -->"


def _files(names: tuple[str, ...]) -> str:
    return ", ".join(f"`{n}`" for n in names) or "-"


def markdown() -> str:
    """The two tables (stages, work files), as in docs/architecture.md."""
    lines = ["| # | stage | scope | reads | writes | rejected rows | module |", "|---|---|---|---|---|---|---|"]
    for i, s in enumerate(STAGES, 1):
        lines.append(f"| {i} | `{s.name}` | {s.scope} | {_files(s.reads)} | {_files(s.writes)} | "
                     f"{_files((s.rejected,) if s.rejected else ())} | `{s.run.__module__}` |")
    byo = [s.name + ("" if s in STAGES else f" ({s.run.__name__})") for s in BYO_STAGES]
    lines += ["", "`synthir filter` runs `BYO_STAGES`: " + " -> ".join(f"`{n}`" for n in byo) + ".", "",
              "| work file | property | holds |", "|---|---|---|"]
    lines += [f"| `{path}` | `{prop}` | {doc} |" for path, prop, doc in layout()]
    lines += ["| `.synthir/<stage>.done.json`, `.synthir/shards/NNNNN/<stage>.done.json` | "
              "`RunDir.marker(stage)`, `ShardDir.marker(stage)` | done-marker: stage, input_sha256, "
              "complete, seconds, outputs (sha256 of each output file) + the stage's stats |"]
    assert len(layout()) == len(FILES)
    return "\n".join(lines) + "\n"


def rewrite(doc: Path) -> None:
    """Replace the generated part of `doc` with `markdown()`."""
    text = doc.read_text(encoding="utf-8")
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    doc.write_text(f"{head}{BEGIN}\n{markdown()}{END}{tail}", encoding="utf-8")


if __name__ == "__main__":
    rewrite(Path(sys.argv[1]))
