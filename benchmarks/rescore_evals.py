"""Give an eval dir made before per-query scores were kept a `per_query.json`, from the models it
saved, so `synthir eval-compare` can pair it with another recipe's eval dir.

    .venv/bin/python benchmarks/rescore_evals.py EVAL_DIR [EVAL_DIR ...]

`synthir eval` saves the first seed's synthetic model (`model/`) and human model
(`model-human/`); this script scores the base model and those two again on the test half that
eval.json records (BEIR dir, qrels split, human split fraction and seed, prefixes, max tokens)
and writes per_query.json with `"rebuilt_from": "saved first-seed models"`: one run per arm,
where the original eval averaged several seeds. A dir that already has per_query.json is left
alone.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from synthir.eval.harness import _load_model, _qrels_split
from synthir.eval.human import split_queries
from synthir.eval.retrieval import per_query, query_groups, retrieve
from synthir.eval.versus import PER_QUERY, per_query_record
from synthir.io.beir import read_beir
from synthir.io.files import write_json_atomic


def rescore(eval_dir: Path) -> Path:
    """Write eval_dir/per_query.json from its saved models; return its path."""
    info = json.loads((eval_dir / "eval.json").read_text(encoding="utf-8"))
    opts, beir = info["options"], Path(info["beir"])
    data = read_beir(beir)
    split = _qrels_split(data, info["qrels_split"], beir)
    qids = query_groups(data, split, data.query_langs)["all"]
    hs = info.get("human_split")
    test = split_queries(qids, hs["fraction"], hs["seed"]).test if hs else qids
    kw = {"query_prefix": opts["query_prefix"], "passage_prefix": opts["passage_prefix"], "k": opts["k"]}
    arms = {}
    for arm, source in (("base", info["model"]), ("synthetic", str(eval_dir / "model")),
                        ("human", str(eval_dir / "model-human"))):
        if arm != "base" and not Path(source).is_dir():
            continue
        model = _load_model(source, info["options"].get("max_seq_length"))
        arms[arm] = [per_query(retrieve(model, data, split, **kw), data, split, list(test))]
    record = per_query_record(str(beir), split, list(test), [info["seeds"][0]], arms)
    record["rebuilt_from"] = "saved first-seed models"
    write_json_atomic(eval_dir / PER_QUERY, record)
    return eval_dir / PER_QUERY


def main(argv: list[str]) -> int:
    for d in map(Path, argv):
        if (d / PER_QUERY).is_file():
            print(f"{d}: has {PER_QUERY} already")
            continue
        print(f"wrote {rescore(d)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
