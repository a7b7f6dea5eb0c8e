"""Write the run as a Hugging Face dataset repo layout in `output.dir` (the same files a
push_to_hub uploads).

Configs (see the card for columns): pairs, triplets, ntuples, distill, graded, graded_qrels,
judged_qrels, tevatron, flagembedding, corpus / queries / qrels (BEIR / MTEB), documents,
hard_negatives, rejected. A passage the judge graded relevant for a query is never one of its
negatives in any of them (`mask_negatives`).
Each is `data/<config>/<split>-00000-of-00001-<sha256[:12]>.parquet`; README.md's YAML
`configs:` names those files, so `datasets.load_dataset(dir, "<config>")` works. The content
hash in the name is deliberate: `datasets` caches a local dir by its folder name and card
metadata only, so a re-published dataset with the same file names would load stale rows.
`beir/` holds the same corpus / queries / qrels as a BEIR folder (corpus.jsonl,
queries.jsonl, qrels/<split>.tsv) for BEIR / MTEB loaders.

Splits: with `output.dev_fraction` > 0, source passages (with all their queries) are assigned
to `dev` by a hash of their split group (the passage, its duplicate cluster and the other
passages of its document, synthir.publish.splits), so the split is stable across runs and no
dev positive is, duplicates or shares a document with a train positive; every per-query config
then has `train` and `dev` splits (corpus and rejected: `train` only). The new dataset is
written to a new version folder beside the published one and switched in with one atomic rename
(synthir.publish.swap): a failed or killed publish leaves the previous dataset (or none), never a
half-written one or a mix.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from rapidfuzz import fuzz, utils

from data_schemas.config import RunConfig
from data_schemas.records import DocumentRecord, Judgment, MinedNegative, Passage, QueryRecord, Rejected, TeacherScore
from synthir.corpus_store import CorpusStore
from synthir.errors import InputError
from synthir.filters.judge import judged_sets
from synthir.funnel import compute_funnel
from synthir.io.beir import write_beir
from synthir.io.files import write_json_atomic
from synthir.publish import formats
from synthir.publish.card import render_card
from synthir.publish.public import public_config
from synthir.publish.splits import group_keys
from synthir.publish.swap import new_version, switch
from synthir.redact import redact
from synthir.publish.tables import SCHEMAS, document_row, negative_row, ntuple_schema, pair_row
from synthir.rundir import RunDir, read_records

CONFIGS = ["pairs", "triplets", "ntuples", "distill", "graded", "graded_qrels", "judged_qrels", "tevatron",
           "flagembedding",
           "corpus", "queries", "qrels", "documents", "hard_negatives", "rejected"]
SPLITS = ("train", "dev")
Tables = dict[str, dict[str, list[dict[str, Any]]]]  # config -> split -> rows


def split_of(passage_id: str, dev_fraction: float) -> str:
    """`dev` for a stable `dev_fraction` share of passage ids (sha256-based), else `train`."""
    if dev_fraction <= 0:
        return "train"
    h = int.from_bytes(hashlib.sha256(passage_id.encode("utf-8")).digest()[:8], "big")
    return "dev" if h / 2**64 < dev_fraction else "train"


def _content_name(path: Path) -> str:
    """Rename `path` to carry the sha256 of its bytes; return the new file name."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    new = path.with_name(f"{path.stem}-{h.hexdigest()[:12]}{path.suffix}")
    path.rename(new)
    return new.name


Teacher = dict[tuple[str, str], float]  # (query id, doc id) -> teacher score


@dataclass
class Collected:
    """What publishing reads from the stages' declared outputs (synthir.stages): pairs from the
    judge's `judged` (the round trip's `kept` in a run made before the judge existed),
    documents from verify's `verified_documents`, negatives from mine's `negatives`, scores
    from the teacher's `teacher_scores`, grades from the judge's `judgments`, rejected from
    every stage's `rejected` output, and the passages they name. Records stay typed until they
    become rows here."""

    pairs: list[dict[str, Any]]
    documents: list[dict[str, Any]]
    negatives: list[MinedNegative]
    rejected: list[dict[str, Any]]
    teacher: Teacher
    judgments: list[Judgment]
    passages: dict[str, Passage]


def _collect(cfg: RunConfig, run: RunDir) -> Collected:
    from synthir.stages import REPORTED

    passages: dict[str, Passage] = {}
    cluster_of = run.store.clusters().cluster_of
    records: list[QueryRecord] = []
    documents: list[dict[str, Any]] = []
    negatives: list[MinedNegative] = []
    judgments: list[Judgment] = []
    rejected: list[Rejected] = []
    for stage in REPORTED:
        if stage.rejected:
            for path in stage.targets(run, None, (stage.rejected,)):
                rejected += read_records(path, Rejected, missing_ok=True)
    teacher: Teacher = {}
    for shard in run.shard_dirs():  # a shard's teacher scores are of that shard's pairs
        teacher.update(((t.query_id, t.doc_id), t.score)
                       for t in read_records(shard.teacher_scores, TeacherScore, missing_ok=True))
        passages.update((p.id, p) for p in read_records(shard.passages, Passage))
        old = not shard.judged.exists() and not shard.marker("judge").exists() and not cfg.judge.enabled
        records += read_records(shard.kept if old else shard.judged, QueryRecord, missing_ok=True)
        documents += [document_row(d) for d in read_records(shard.verified_documents, DocumentRecord, missing_ok=True)]
        negatives += read_records(shard.negatives, MinedNegative, missing_ok=True)
        judgments += read_records(shard.judgments, Judgment, missing_ok=True)
    wanted = {r.passage_id for r in records} | {x for r in records for x in r.extra_positives}
    passages.update(run.store.passages((wanted | {j.doc_id for j in judgments}) - set(passages)))
    retrieval = {(j.query_id, j.doc_id): j.retrieval_score for j in judgments}
    pairs = [pair_row(r, passages[r.passage_id], teacher.get((r.id, r.passage_id)), cluster_of.get(r.passage_id),
                      [{"id": x, "title": passages[x].title, "text": passages[x].text,
                        "score": retrieval.get((r.id, x)), "teacher": teacher.get((r.id, x))}
                       for x in r.extra_positives])
             for r in records]
    pairs.sort(key=lambda r: r["id"])
    documents.sort(key=lambda r: (r["query_id"], r["kind"], -(r["level"] or 0), r["id"]))
    rows = sorted(({**r.model_dump(), "detail": redact(r.detail), "raw": redact(r.raw)} for r in rejected),
                  key=lambda r: (r["stage"], r["id"]))
    return Collected(pairs, documents, negatives, rows, teacher, judgments, passages)


def _near_copy(text: str, others: list[str], ratio: float) -> bool:
    a = utils.default_process(text)
    return any(fuzz.ratio(a, utils.default_process(o)) >= ratio for o in others)


def mask_negatives(cfg: RunConfig, c: Collected) -> tuple[list[MinedNegative], list[dict[str, Any]], int]:
    """(negatives, documents, how many were dropped): no passage the judge graded relevant
    for a query (or could not grade; or the query's source) is one of its corpus negatives,
    and no LLM negative of a query near-copies such a passage (rapidfuzz ratio >=
    mining.near_duplicate_ratio). Mining already skips them: this is the guarantee, applied
    once before every config is built."""
    masked = {qid: v.masked for qid, v in judged_sets(cfg.judge, c.judgments).items()}
    positives = {p["id"]: {p["positive_id"], *p["extra_positive_ids"]} for p in c.pairs}
    negs = [n for n in c.negatives
            if n.negative_id not in masked.get(n.query_id, frozenset()) | positives.get(n.query_id, set())]
    docs = [d for d in c.documents
            if not (d["kind"] == "negative" and masked.get(d["query_id"])
                    and _near_copy(d["text"], [c.passages[m].text for m in masked[d["query_id"]] if m in c.passages],
                                   cfg.mining.near_duplicate_ratio))]
    return negs, docs, len(c.negatives) - len(negs) + len(c.documents) - len(docs)


def build_tables(cfg: RunConfig, run: RunDir) -> tuple[Tables, list[dict]]:
    """Every per-query config, split into train/dev by (the judged) positive passage; plus
    the pairs."""
    c = _collect(cfg, run)
    pairs, rejected, teacher = c.pairs, c.rejected, c.teacher
    negatives, documents, _ = mask_negatives(cfg, c)
    known = {r["positive_id"]: {"title": r["positive_title"], "text": r["positive"]} for r in pairs}
    known.update((i, {"title": p.title, "text": p.text})
                 for i, p in run.store.passages({n.negative_id for n in negatives} - set(known)).items())
    hard = [negative_row(n, known, teacher.get((n.query_id, n.negative_id)))
            for n in sorted(negatives, key=lambda n: (n.query_id, n.rank))]
    judged: dict[str, list[dict[str, Any]]] = {}
    for j in c.judgments:
        if j.grade is not None and j.doc_id in c.passages:
            judged.setdefault(j.query_id, []).append({"doc_id": j.doc_id, "document": c.passages[j.doc_id].text,
                                                      "score": j.grade})
    key = group_keys(run.store.clusters().cluster_of, run.store.doc_of()) if pairs else (lambda pid: pid)
    split = {p["id"]: split_of(key(p["positive_id"]), cfg.output.dev_fraction) for p in pairs}
    tables: Tables = {name: {} for name in CONFIGS if name != "corpus"}
    tables["rejected"]["train"] = rejected
    n_tuple = cfg.mining.num_negatives
    for s in SPLITS:
        ps = [p for p in pairs if split[p["id"]] == s]
        ids = {p["id"] for p in ps}
        docs = [d for d in documents if d["query_id"] in ids]
        hs = [h for h in hard if h["query_id"] in ids]
        negs = formats.negatives_by_query(hs, docs, teacher)
        graded = formats.graded_rows(ps, docs, judged)
        t = {"pairs": ps, "triplets": formats.triplet_rows(ps, negs),
             "ntuples": formats.ntuple_rows(ps, negs, n_tuple) if n_tuple >= 2 else [],
             "distill": formats.distill_rows(ps, negs),
             "graded": graded, "graded_qrels": formats.graded_qrels(graded),
             "judged_qrels": formats.judged_qrels(ps, judged),
             "tevatron": formats.tevatron_rows(ps, negs), "flagembedding": formats.flagembedding_rows(ps, negs),
             "queries": [{"_id": r["id"], "text": r["query"], "lang": r["query_lang"]} for r in ps],
             "qrels": formats.qrels_rows(ps),
             "documents": docs, "hard_negatives": hs}
        for name, rows in t.items():
            tables[name][s] = rows
    return tables, pairs


def _schema(cfg: RunConfig, name: str) -> pa.Schema:
    return ntuple_schema(cfg.mining.num_negatives) if name == "ntuples" else SCHEMAS[name]


def _file(split: str) -> str:
    """The Parquet file name of one split (before its content hash is added)."""
    return f"{split}-00000-of-00001.parquet"


def _column(batch: pa.RecordBatch, name: str) -> list[Any]:
    """A column's values, or Nones when the (older) corpus file lacks it."""
    i = batch.schema.get_field_index(name)
    return batch.column(i).to_pylist() if i >= 0 else [None] * batch.num_rows


def _write_corpus(cfg: RunConfig, run: RunDir, dst: Path, referenced: set[str]) -> int:
    dst.mkdir(parents=True, exist_ok=True)
    n = 0
    with pq.ParquetWriter(dst / _file("train"), SCHEMAS["corpus"]) as writer:
        cluster_of = run.store.clusters().cluster_of
        for batch in run.store.batches(["id", "title", "text", "lang", "doc_id"]):
            ids = batch.column("id").to_pylist()
            keep = [cfg.output.corpus != "referenced" or i in referenced for i in ids]
            rows = {"_id": ids, "title": batch.column("title").to_pylist(), "text": batch.column("text").to_pylist(),
                    "lang": batch.column("lang").to_pylist(),
                    "doc_id": [d or i for d, i in zip(_column(batch, "doc_id"), ids)],
                    "cluster_id": [cluster_of.get(i, i) for i in ids]}
            t = pa.Table.from_pydict(rows, schema=SCHEMAS["corpus"]).filter(pa.array(keep))
            writer.write_table(t)
            n += t.num_rows
    return n


def _write_beir(tables: Tables, corpus_file: Path, dst: Path) -> None:
    def corpus_rows():
        for batch in CorpusStore(corpus_file).batches():
            yield from batch.to_pylist()

    queries = [q for s in SPLITS for q in tables["queries"].get(s, [])]
    qrels = {s: [(r["query-id"], r["corpus-id"], r["score"]) for r in tables["qrels"][s]]
             for s in SPLITS if tables["qrels"].get(s)}
    write_beir(dst, corpus_rows(), queries, qrels)


def check_intact(run: RunDir) -> None:
    """InputError (one line) when an output of a finished stage is missing or changed since
    it was written: publishing would silently lose rows. `synthir run` repairs it first (the
    stage runs again); `synthir publish` alone cannot, so it says what to run."""
    from synthir.stages import REPORTED
    from synthir.stages.base import damaged_run

    damaged = damaged_run(run, REPORTED)
    if damaged:
        stage, path = damaged[0]
        more = f" (and {len(damaged) - 1} more)" if len(damaged) > 1 else ""
        raise InputError(f"run dir {run.root} is damaged: {path.relative_to(run.root)} (written by stage "
                         f"{stage}) is missing or changed{more}; run the same `synthir run` / `synthir "
                         "filter` command again to rebuild it (finished work is reused), then publish")


def publish(cfg: RunConfig, run: RunDir) -> dict[str, Any]:
    """Publish the finished stages of the run; return {"dir", "rows": {config: n},
    "splits": {config: {split: n}}, "files": {config: {split: path}}, "funnel", "top_k"}.
    Raises InputError when a finished stage's output is missing or changed (`check_intact`)."""
    check_intact(run)
    tables, pairs = build_tables(cfg, run)
    funnel = compute_funnel(cfg, run)
    tmp = new_version(run)  # beside the published one; switched in whole at the end
    data = tmp / "data"
    splits: dict[str, dict[str, int]] = {}
    files: dict[str, dict[str, str]] = {}
    referenced = {pid for r in pairs for pid in [r["positive_id"], *r["extra_positive_ids"]]}
    referenced |= {r["corpus-id"] for split in tables["judged_qrels"].values() for r in split}
    n_corpus = _write_corpus(cfg, run, data / "corpus", referenced)
    _write_beir(tables, data / "corpus" / _file("train"), tmp / "beir")
    splits["corpus"] = {"train": n_corpus}
    for name in CONFIGS:
        if name != "corpus":
            splits[name] = {s: len(rows) for s, rows in tables[name].items()}
            for s, rows in tables[name].items():
                if rows:
                    (data / name).mkdir(parents=True, exist_ok=True)
                    pq.write_table(pa.Table.from_pylist(rows, schema=_schema(cfg, name)),
                                   data / name / _file(s))
    # `datasets` cannot load a Parquet file with no rows, so an empty split (or config) is not
    # published; the card still lists it with 0 rows.
    for name in CONFIGS:
        for s in SPLITS:
            f = data / name / _file(s)
            if f.exists():
                files.setdefault(name, {})[s] = f"data/{name}/{_content_name(f)}"
    rows = {name: sum(v.values()) for name, v in splits.items()}
    (tmp / "README.md").write_text(redact(render_card(cfg, funnel, rows, splits, files)), encoding="utf-8")
    write_json_atomic(tmp / "funnel.json", {"funnel": public_config(funnel), "rows": rows, "splits": splits})
    switch(run, tmp)
    root = run.root
    return {"dir": str(root), "rows": rows, "splits": splits, "funnel": funnel, "files": files,
            "top_k": cfg.roundtrip.top_k}
