"""The stage graph of the main job, declared once.

`STAGES` is the job, in order: ingest -> index -> bootstrap -> probe -> generate (per shard) -> filter
-> roundtrip, judge (per shard) -> documents, verify, mine, teacher (per shard) -> publish. The local runner
(`synthir.pipeline`) and the Prefect flow (`flows/generate.py`) both iterate it; the funnel
and publish read each stage's declared outputs and stats. `BYO_STAGES` is `synthir filter`
(bring your own pairs): the same list with ingest without sampling, the pairs loaded, and
`generate` written from them. See docs/architecture.md: adding a stage is one module + one
line here.
"""

from __future__ import annotations

from synthir.stages.base import Context, Stage, run_stage
from synthir.stages.bootstrap import BOOTSTRAP
from synthir.stages.byo import BYO_GENERATE, BYO_INGEST, BYO_LOAD
from synthir.stages.documents import DOCUMENTS
from synthir.stages.filter import FILTER
from synthir.stages.generate import GENERATE
from synthir.stages.index import INDEX
from synthir.stages.ingest import INGEST
from synthir.stages.judge import JUDGE
from synthir.stages.mine import MINE
from synthir.stages.probe import PROBE
from synthir.stages.publish import PUBLISH
from synthir.stages.roundtrip import ROUNDTRIP
from synthir.stages.teacher import TEACHER
from synthir.stages.verify import VERIFY

STAGES: list[Stage] = [INGEST, INDEX, BOOTSTRAP, PROBE, GENERATE, FILTER, ROUNDTRIP, JUDGE, DOCUMENTS, VERIFY, MINE,
                       TEACHER, PUBLISH]
BYO_STAGES: list[Stage] = [BYO_INGEST, BYO_LOAD, BYO_GENERATE, INDEX, *STAGES[5:]]
# Every stage whose markers / outputs a run dir may hold, once per name (funnel and publish).
REPORTED: list[Stage] = [INGEST, BYO_LOAD, *STAGES[1:-1]]
BY_NAME: dict[str, Stage] = {s.name: s for s in REPORTED + [PUBLISH]}

__all__ = ["BYO_STAGES", "BY_NAME", "Context", "REPORTED", "STAGES", "Stage", "run_stage"]
