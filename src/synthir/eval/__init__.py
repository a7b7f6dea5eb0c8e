"""Downstream evaluation: does a published dataset make a retriever better?

`synthir eval DATASET_DIR --beir BEIR_DIR --out EVAL_DIR` fine-tunes a sentence-transformers
model (default: the packaged all-MiniLM-L6-v2) on the dataset and reports nDCG@10, Recall@100
and MRR@10 of the base and the fine-tuned model on a BEIR dir (metrics from ir-measures), over
one or several seeds, with paired bootstrap CIs of the deltas, and optionally against a human
arm trained on part of the BEIR dir's own judged queries (harness.py; train.py, human.py,
bootstrap.py, compare.py, retrieval.py).
`synthir dev-set` builds a BEIR dev set from the bundled Wikipedia summaries.
"""
