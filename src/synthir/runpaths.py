"""The run directory: `<output.dir>/.synthir/` holds the work files of a run; the published
dataset (README.md + data/) sits in `<output.dir>` itself.

Layout: config.json (the validated config + fingerprint), corpus.parquet (normalised corpus),
ingest/{rejected.jsonl,stats.json}, shards/NNNNN/{passages.jsonl, queries.jsonl,
generate_rejected.jsonl, generate.done.json, kept.jsonl, roundtrip_rejected.jsonl,
roundtrip.done.json}, index.json.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from data_schemas.config import RunConfig
from synthir.errors import InputError
from synthir.ids import content_id
from synthir.io.files import write_json_atomic


def config_fingerprint(cfg: RunConfig, prompt_shas: dict[str, str] | None = None) -> str:
    """Hash of everything that changes the generated and filtered records: the config, except
    the publish options (output.*: dir, licence, split, hub...) and orchestration (how tasks
    run), plus the sha256 of every prompt / example file the run uses."""
    d = cfg.model_dump(mode="json")
    d.pop("output")
    d.pop("orchestration")
    return content_id(d, prompt_shas or {})


LOOKUP_MAX_BYTES = 256 << 20  # corpus Parquet files up to this size are cached for lookups


@functools.lru_cache(maxsize=2)
def _corpus_lookup(path: str, mtime_ns: int, size: int) -> tuple[dict[str, int], Any, Any]:
    """({id: row}, title column, text column) of a corpus Parquet file; keyed on its path,
    mtime and size, so a rewritten corpus is read again."""
    import pyarrow.parquet as pq

    table = pq.read_table(path, columns=["id", "title", "text"])
    rows = {i: k for k, i in enumerate(table.column("id").to_pylist())}
    return rows, table.column("title"), table.column("text")


@dataclass(frozen=True)
class RunPaths:
    """Paths of one run (see module doc)."""

    root: Path

    @property
    def work(self) -> Path:
        return self.root / ".synthir"

    @property
    def corpus(self) -> Path:
        return self.work / "corpus.parquet"

    @property
    def ingest(self) -> Path:
        return self.work / "ingest"

    @property
    def shards(self) -> Path:
        return self.work / "shards"

    @property
    def index_meta(self) -> Path:
        return self.work / "index.json"

    def corpus_passages(self, wanted: "set[str] | list[str]") -> dict[str, dict[str, str]]:
        """{id: {"title", "text"}} of the `wanted` passages of the normalised corpus. A corpus
        file up to LOOKUP_MAX_BYTES is read once per process and looked up by id (mining calls
        this once per shard); a larger one is streamed on each call."""
        import pyarrow.parquet as pq

        want = set(wanted)
        out: dict[str, dict[str, str]] = {}
        if not want:
            return out
        st = self.corpus.stat()
        if st.st_size <= LOOKUP_MAX_BYTES:
            rows, titles, texts = _corpus_lookup(str(self.corpus), st.st_mtime_ns, st.st_size)
            for i in want:
                k = rows.get(i)
                if k is not None:
                    out[i] = {"title": titles[k].as_py() or "", "text": texts[k].as_py()}
            return out
        for batch in pq.ParquetFile(self.corpus).iter_batches(batch_size=8192,
                                                              columns=["id", "title", "text"]):
            d = batch.to_pydict()
            out.update((i, {"title": t or "", "text": x})
                       for i, t, x in zip(d["id"], d["title"], d["text"]) if i in want)
        return out

    def corpus_texts(self, wanted: "set[str] | list[str]") -> dict[str, str]:
        """{id: text} of the `wanted` passages."""
        return {i: p["text"] for i, p in self.corpus_passages(wanted).items()}

    def shard_dirs(self) -> list[Path]:
        """Existing shard directories, in order."""
        return sorted(p for p in self.shards.glob("[0-9]*") if p.is_dir())


def prepare_run(cfg: RunConfig, prompt_shas: dict[str, str] | None = None) -> RunPaths:
    """Create the run dir, or reuse it when it holds the same config (resume).

    Raises InputError when the output dir holds a run of a different config: runs never mix.
    """
    paths = RunPaths(Path(cfg.output.dir))
    fp = config_fingerprint(cfg, prompt_shas)
    meta = paths.work / "config.json"
    if meta.exists():
        old = json.loads(meta.read_text(encoding="utf-8"))
        if old.get("fingerprint") != fp:
            raise InputError(f"{paths.root} holds a run of a different config or prompt "
                             f"(fingerprint {old.get('fingerprint')} != {fp}); "
                             "use another output.dir or delete it")
    else:
        paths.work.mkdir(parents=True, exist_ok=True)
        write_json_atomic(meta, {"fingerprint": fp, "config": cfg.model_dump(mode="json"),
                                 "prompt_sha256": prompt_shas or {}})
    return paths
