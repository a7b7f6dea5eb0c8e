"""Bring your own pairs: run the filters, the round trip and the mining (and, if configured,
document generation and verification) on pairs a user already has, over a corpus.

    synthir filter PAIRS_FILE CONFIG.yaml --out DIR

PAIRS_FILE: JSONL or Parquet rows with `query`, `passage_id` and optionally `language`. The
run is `synthir.stages.BYO_STAGES` (see synthir.stages.byo): same stages and layout as
`synthir run`; no LLM is called unless `generation.documents` asks for documents.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

from data_schemas.config import RunConfig
from synthir.generators import document_generators
from synthir.lock import output_lock
from synthir.errors import ConfigError
from synthir.pipeline import check_calls, run_job, start
from synthir.publish.release import push
from synthir.stages import BYO_STAGES
from synthir.stages.byo import read_pairs
from synthir.stages.judge import judge_files


def run_filter(cfg: RunConfig, pairs_file: Path, progress: bool = True) -> dict[str, Any]:
    """The whole bring-your-own-pairs job; returns the publish result (as `pipeline.run`)."""
    t0 = time.time()
    if cfg.target.kept_pairs is not None:
        raise ConfigError("target.kept_pairs is for synthir run (it samples more passages); synthir filter "
                          "judges the pairs you give: remove target.*")
    read_pairs(pairs_file)  # fail early, before any work, on a missing or unreadable file
    shas = {f"pairs:{pairs_file.name}": hashlib.sha256(pairs_file.read_bytes()).hexdigest()}
    for g in document_generators(cfg):
        shas.update(g.files())
    shas.update(judge_files(cfg))
    with output_lock(cfg.output.dir):
        run = start(cfg, shas)
        result = run_job(cfg, run, BYO_STAGES, progress=progress, params={"pairs_file": str(pairs_file)})
        check_calls(result, run)
        result["hub"] = push(cfg, run)
    result["seconds"] = round(time.time() - t0, 1)
    return result
