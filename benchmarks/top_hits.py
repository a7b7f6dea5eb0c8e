"""What do trained students retrieve for a slice of the test questions? The rank of the relevant
page and the top hits, per model, so a page that became a "hub" (first for many questions it
does not answer) shows up.

    .venv/bin/python benchmarks/top_hits.py --beir BEIR_DIR --queries REGEX --tag NAME \
        --model base=e5-small --model synthetic=EVAL_DIR/model --model human=EVAL_DIR/model-human

`--model NAME=PATH`: a sentence-transformers dir, or `e5-small` / `minilm` (the packaged ones).
Texts get e5's "query: " / "passage: " prefixes, as `synthir eval` gives e5-small and the models
fine-tuned from it; pass `--no-e5-prefixes` when the models are MiniLM ones. Per
question matching REGEX (re.search over the BEIR query ids): the relevant page's rank and the
`--top` best pages. Per model: how often each page is first. Writes
benchmarks/results/top_hits-NAME.json.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def _load(path: str) -> Any:
    from sentence_transformers import SentenceTransformer

    from synthir.embed.st import model_source

    if path in ("e5-small", "minilm"):
        path = model_source(path)
    model = SentenceTransformer(path, device="cpu")
    model.max_seq_length = 256  # synthir eval's default for every arm
    return model


def top_hits(beir: Path, pattern: str, models: dict[str, str], top: int, prefixes: bool) -> dict[str, Any]:
    """{"questions": [{"qid", "text", "relevant", "models": {name: {"rank", "top"}}}],
    "first_counts": {name: {page: times first}}} for the questions matching `pattern`."""
    from synthir.eval.retrieval import doc_text

    corpus = [json.loads(line) for line in (beir / "corpus.jsonl").open(encoding="utf-8") if line.strip()]
    queries = {row["_id"]: row["text"] for row in map(json.loads, (beir / "queries.jsonl").open(encoding="utf-8"))}
    qrels: dict[str, set[str]] = {}
    for line in sorted((beir / "qrels").glob("*.tsv"))[0].open(encoding="utf-8"):
        parts = line.rstrip("\n").split("\t")
        if len(parts) == 3 and parts[0] != "query-id" and float(parts[2]) > 0:
            qrels.setdefault(parts[0], set()).add(parts[1])
    qids = sorted(q for q in qrels if q in queries and re.search(pattern, q))
    if not qids:
        raise SystemExit(f"no judged query id matches {pattern!r}")
    ids = [c["_id"] for c in corpus]
    qp, pp = ("query: ", "passage: ") if prefixes else ("", "")
    # published without local absolute paths: a model dir as its last two parts (eval dir/model)
    shown = {n: p if p in ("e5-small", "minilm") else "/".join(Path(p).parts[-2:]) for n, p in models.items()}
    out: dict[str, Any] = {"beir": beir.name, "queries": pattern, "models": shown, "questions": [],
                           "first_counts": {}}
    rows = {q: {"qid": q, "text": queries[q], "relevant": sorted(qrels[q]), "models": {}} for q in qids}
    for name, path in models.items():
        model = _load(path)
        pv = model.encode([pp + doc_text(c) for c in corpus],
                          normalize_embeddings=True, batch_size=16)
        qv = model.encode([qp + queries[q] for q in qids], normalize_embeddings=True, batch_size=16)
        firsts: Counter[str] = Counter()
        for q, scores in zip(qids, np.asarray(qv) @ np.asarray(pv).T):
            order = [ids[i] for i in np.argsort(-scores)]
            rank = min(order.index(d) + 1 for d in qrels[q] if d in order)
            rows[q]["models"][name] = {"rank": rank, "top": order[:top]}
            firsts[order[0]] += 1
        out["first_counts"][name] = dict(firsts.most_common())
    out["questions"] = list(rows.values())
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--beir", type=Path, required=True)
    ap.add_argument("--queries", required=True, metavar="REGEX")
    ap.add_argument("--model", action="append", required=True, metavar="NAME=PATH")
    ap.add_argument("--top", type=int, default=3)
    ap.add_argument("--no-e5-prefixes", dest="prefixes", action="store_false")
    ap.add_argument("--tag", required=True)
    a = ap.parse_args()
    models = dict(m.split("=", 1) for m in a.model)
    out = top_hits(a.beir, a.queries, models, a.top, a.prefixes)
    path = ROOT / "benchmarks" / "results" / f"top_hits-{a.tag}.json"
    path.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    for row in out["questions"]:
        print(f"{row['text'][:40]:40s} " + "  ".join(
            f"{n}: {m['rank']:>3} {[t.split('/')[-1] for t in m['top']]}" for n, m in row["models"].items()))
    print("first:", json.dumps(out["first_counts"], ensure_ascii=False))
    print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
