"""Stage `publish` (whole run, every time): write the Hugging Face dataset layout and card from
the finished stages' declared outputs (see synthir.publish.hf). No marker: publish options
(output.*) may change between publishes of one run (`synthir publish`).

Reads: passages, judged, judgments, verified_documents, negatives, teacher_scores and every
stage's rejected rows.
Stats: the publish result (dir, rows, splits, files, funnel).
"""

from __future__ import annotations

from typing import Any

from synthir.stages.base import Context, Stage


def publish_run(ctx: Context) -> dict[str, Any]:
    from synthir.publish.hf import publish

    return publish(ctx.cfg, ctx.run)


PUBLISH = Stage("publish", "run", reads=("passages", "judged", "judgments", "verified_documents", "negatives",
                                        "teacher_scores"), writes=(),
                run=publish_run, always=True)
