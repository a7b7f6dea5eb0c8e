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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchmarks/ is a folder of scripts, not a package
from published import labelled, write_result  # noqa: E402


def top_hits(beir: Path, pattern: str, models: dict[str, str], top: int, prefixes: bool) -> dict[str, Any]:
    """{"questions": [{"qid", "text", "relevant", "models": {name: {"rank", "top"}}}],
    "first_counts": {name: {page: times first}}} for the judged questions matching `pattern`
    (the qrels split `synthir eval` picks: test, else dev, validation, train). The ranking is
    `synthir eval`'s own (`retrieval.retrieve` over the whole corpus)."""
    from synthir.eval.harness import _load_model, _qrels_split
    from synthir.eval.retrieval import retrieve
    from synthir.io.beir import read_beir

    data = read_beir(beir)
    split = _qrels_split(data, None, beir)
    qrels = {q: {d for d, s in docs.items() if s > 0} for q, docs in data.qrels[split].items()}
    qids = sorted(q for q in qrels if q in data.queries and qrels[q] and re.search(pattern, q))
    if not qids:
        raise SystemExit(f"no judged query id matches {pattern!r}")
    qp, pp = ("query: ", "passage: ") if prefixes else ("", "")
    # published without local absolute paths: a model dir as its last two parts (eval dir/model)
    shown = {n: p if p in ("e5-small", "minilm") else "/".join(Path(p).parts[-2:]) for n, p in models.items()}
    out: dict[str, Any] = {"beir": beir.name, "queries": pattern, "models": shown, "questions": [],
                           "first_counts": {}}
    rows = {q: {"qid": q, "text": data.queries[q], "relevant": sorted(qrels[q]), "models": {}} for q in qids}
    for name, path in models.items():
        run = retrieve(_load_model(path, 256), data, split, k=len(data.corpus), query_prefix=qp,
                       passage_prefix=pp)  # 256 tokens: synthir eval's default for every arm
        firsts: Counter[str] = Counter()
        for q in qids:
            order = list(run[q])  # best first
            rows[q]["models"][name] = {"rank": min(order.index(d) + 1 for d in qrels[q] if d in order),
                                       "top": order[:top]}
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
    models = {name: str(path) for name, path in labelled(a.model, what="--model NAME=PATH")}
    out = top_hits(a.beir, a.queries, models, a.top, a.prefixes)
    for row in out["questions"]:
        print(f"{row['text'][:40]:40s} " + "  ".join(
            f"{n}: {m['rank']:>3} {[t.split('/')[-1] for t in m['top']]}" for n, m in row["models"].items()))
    print("first:", json.dumps(out["first_counts"], ensure_ascii=False))
    write_result("top_hits", a.tag, out)


if __name__ == "__main__":
    main()
