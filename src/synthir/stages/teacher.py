"""Stage `teacher` (per shard): GPL's teacher. Scores every kept pair's positive(s) and every
negative (mined from the corpus and verified LLM-written) with the configured teacher: an
embedder (cosine; default multilingual-e5-small), a local CrossEncoder, or an LLM as a yes/no
judge (synthir.llm.judge: P(yes) from next-token log-probs). The student then
learns the margins teacher(q, pos) - teacher(q, neg) (MarginMSE; the `distill` config).
Reference: Wang et al. 2022, GPL: Generative Pseudo Labeling for Unsupervised Domain
Adaptation of Dense Retrieval.

Reads: judged, negatives, verified_documents, passages, corpus. Writes: teacher_scores (TeacherScore;
empty when `teacher.enabled` is false). Stats: scored, teacher, by role.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from data_schemas.config import LLMConfig, TeacherConfig
from data_schemas.records import DocumentRecord, MinedNegative, QueryRecord, TeacherScore
from synthir.embed.registry import get_embedder
from synthir.errors import ConfigError
from synthir.filters.verify import Scorer, cross_encoder_scorer, embedder_scorer
from synthir.llm.judge import YesNoJudge
from synthir.rundir import read_records, write_records
from synthir.stages.base import Context, Stage
from synthir.stages.common import positive_passages

_SCORERS: dict[str, tuple[str, Scorer]] = {}


def teacher_scorer(cfg: TeacherConfig, run_llm: LLMConfig | None = None,
                   prompts_dir: str | None = None) -> tuple[str, Scorer]:
    """(teacher name, scorer of (query, text) pairs), built once per process. `run_llm`: the
    judge of `kind: llm` when `cfg.llm` is unset."""
    key = cfg.model_dump_json() + (run_llm.model_dump_json() if run_llm and cfg.kind == "llm" else "")
    if key not in _SCORERS:
        if cfg.kind == "llm":
            judge_cfg = cfg.llm or run_llm
            if judge_cfg is None:
                raise ConfigError("teacher.kind llm needs teacher.llm (or the run's llm)")
            judge = YesNoJudge(judge_cfg, prompts_dir)
            _SCORERS[key] = (judge.name, judge)
        elif cfg.kind == "cross_encoder":
            _SCORERS[key] = (f"cross-encoder:{Path(cfg.cross_encoder or '').name}",
                             cross_encoder_scorer(cfg.cross_encoder or ""))
        else:
            embedder = get_embedder(cfg.embedder)
            _SCORERS[key] = (embedder.name, embedder_scorer(embedder))
    return _SCORERS[key]


def teacher(ctx: Context) -> dict[str, Any]:
    cfg, shard = ctx.cfg, ctx.sh
    if not cfg.teacher.enabled:
        write_records(shard.teacher_scores, [])
        return {"scored": 0, "teacher": None}
    queries = {q.id: q for q in read_records(shard.judged, QueryRecord)}
    positives = {i: p.text for i, p in positive_passages(ctx.run, shard, list(queries.values())).items()}
    mined = [n for n in read_records(shard.negatives, MinedNegative, missing_ok=True) if n.query_id in queries]
    llm = [d for d in read_records(shard.verified_documents, DocumentRecord, missing_ok=True)
           if d.kind == "negative" and d.query_id in queries]
    texts = ctx.run.store.texts({n.negative_id for n in mined})
    items = [(q.id, pid, "positive", q.query, positives[pid]) for q in queries.values()
             for pid in [q.passage_id, *q.extra_positives]]
    items += [(n.query_id, n.negative_id, "mined", queries[n.query_id].query, texts[n.negative_id])
              for n in mined if n.negative_id in texts]
    items += [(d.query_id, d.id, "llm", queries[d.query_id].query, d.text) for d in llm]
    name, score = teacher_scorer(cfg.teacher, cfg.llm, cfg.generation.prompts_dir)
    scores = score([(q, t) for _, _, _, q, t in items]) if items else []
    records = [TeacherScore(query_id=qid, doc_id=did, role=role, score=round(float(s), 6), teacher=name)
               for (qid, did, role, _, _), s in zip(items, scores)]
    write_records(shard.teacher_scores, records)
    return {"scored": len(records), "teacher": name, "by_role": dict(Counter(r.role for r in records))}


def _funnel(f: Any, stats: dict[str, Any]) -> None:
    if stats.get("teacher"):
        f.teacher["teacher"] = stats["teacher"]
        f.teacher["scored"] = f.teacher.get("scored", 0) + stats.get("scored", 0)


TEACHER = Stage("teacher", "shard", reads=("judged", "negatives", "verified_documents", "passages", "corpus"),
                writes=("teacher_scores",), run=teacher, key=lambda cfg: cfg.teacher.model_dump_json() + (cfg.llm.model_dump_json() if cfg.teacher.kind == "llm" else ""),
                funnel=_funnel)
