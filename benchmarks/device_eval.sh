#!/bin/bash
# GPU check of `synthir eval --device` (run on a lent GPU machine, from the repo root; writes to $OUT).
# The same eval twice on that machine: --device auto (which must pick the GPU) and --device cpu,
# same student, data and seeds; prints each run's device, seconds and nDCG@10 per arm, and the
# largest per-query difference between the two runs' base arms (encoding only: float noise).
# Carried (ignored paths): .whl (wheels of the packages that machine lacks), .gpucheck/ with
#   minilm-int8 (benchmarks/int8_model.py pack of all-MiniLM-L6-v2), beir (a dev set's BEIR dir)
#   and data (a published dataset's README.md + data/pairs).
set -eo pipefail
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
export PYTHONPATH=/tmp/site:$PWD/src:$PWD PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false HF_HUB_OFFLINE=1
python3 benchmarks/int8_model.py unpack .gpucheck/minilm-int8 /tmp/minilm
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import torch, transformers, sentence_transformers as st; print('torch', torch.__version__, 'transformers', transformers.__version__, 'sentence-transformers', st.__version__, 'cuda', torch.cuda.is_available())"
SEEDS=${SEEDS:-0,1,2}
for d in auto cpu; do
  python3 -c "import sys; from synthir.cli import main; sys.exit(main(sys.argv[1:]))" eval .gpucheck/data \
    --beir .gpucheck/beir --out /tmp/eval-$d --model /tmp/minilm --human-split 0.5 --seeds "$SEEDS" --device $d \
    > /tmp/eval-$d.log 2>&1 || { tail -20 /tmp/eval-$d.log; exit 1; }
  mkdir -p "$OUT/$d" && cp /tmp/eval-$d/eval.json /tmp/eval-$d/comparison.json "$OUT/$d/"
done
python3 - <<'EOF'
import json
runs = {d: json.load(open(f"/tmp/eval-{d}/eval.json")) for d in ("auto", "cpu")}
pq = {d: json.load(open(f"/tmp/eval-{d}/per_query.json")) for d in ("auto", "cpu")}
for d, info in runs.items():
    comp = json.load(open(f"/tmp/eval-{d}/comparison.json"))
    arms = {a: round(s["all"]["ndcg@10"]["mean"], 4) for a, s in comp["arms"].items()}
    train = {a: [r["seconds"] for r in t["runs"]] for a, t in info["training"].items()}
    print(f"--device {d}: ran on {info['device']}; {info['seconds']} s in all; encode+search (base) "
          f"{info['encode_and_search_seconds']} s; training s per seed {train}; nDCG@10 {arms}")
a, b = (pq[d]["arms"]["base"][0]["ndcg@10"] for d in ("auto", "cpu"))
print("base arm, largest per-query nDCG@10 difference GPU vs CPU:", max(abs(a[q] - b[q]) for q in a))
EOF
