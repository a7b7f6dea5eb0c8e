"""Command line: `synthir run CONFIG [--set k=v ...] [--out DIR]`,
`synthir filter PAIRS CONFIG [--set k=v ...] [--out DIR]`, `synthir publish RUN_DIR [--set
k=v ...] [--push REPO_ID]`, `synthir eval DATASET --beir DIR --out DIR`, `synthir dev-set
[--source wiki|rfaq|gnome-help] --langs en fr --out DIR`, `synthir setup`,
`synthir wiki-corpus --langs en fr --out FILE`.

Exit codes: 0 success; 2 config or input error (one line on stderr); 1 unexpected failure.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from synthir.errors import SynthirError


def _run(args: argparse.Namespace) -> int:
    from synthir.config import load_config
    from synthir.pipeline import run, summary_text

    cfg = load_config(args.config, args.set, args.out)
    result = run(cfg, progress=not args.no_progress)
    print(summary_text(result))
    return 0


def _filter(args: argparse.Namespace) -> int:
    from synthir.byo import run_filter
    from synthir.config import load_config
    from synthir.pipeline import summary_text

    cfg = load_config(args.config, args.set, args.out)
    result = run_filter(cfg, Path(args.pairs), progress=not args.no_progress)
    print(summary_text(result))
    return 0


def _publish(args: argparse.Namespace) -> int:
    from synthir.pipeline import summary_text
    from synthir.publish.release import republish

    sets = list(args.set) + ([f"output.hub.repo_id={args.push}"] if args.push else [])
    print(summary_text(republish(Path(args.run_dir), sets)))
    return 0


def _eval(args: argparse.Namespace) -> int:
    from synthir.eval.harness import run_eval, table
    from synthir.eval.train import TrainOptions

    opts = TrainOptions(config=args.config, epochs=args.epochs, max_steps=args.max_steps,
                        batch_size=args.batch_size, learning_rate=args.lr, seed=args.seed)
    result = run_eval(Path(args.dataset), Path(args.beir), Path(args.out), model=args.model, opts=opts,
                      qrels_split=args.qrels_split, query_prefix=args.query_prefix,
                      passage_prefix=args.passage_prefix)
    print(table(result))
    print(f"synthir: metrics written to {Path(args.out) / 'metrics.json'}")
    return 0


def _devset(args: argparse.Namespace) -> int:
    if args.source != "wiki":
        from synthir.eval.debian_devsets import build_devsets

        for path, counts in build_devsets(args.source, args.langs, args.app, Path(args.out),
                                          args.with_manuals, args.combine_apps):
            print(f"wrote BEIR dev set to {path}: " + ", ".join(f"{k}={v}" for k, v in counts.items()))
        return 0
    from synthir.eval.devset import build_wiki_devset

    counts = build_wiki_devset(args.langs or ["en", "fr"], Path(args.out), args.queries_per_lang,
                               args.cross_per_pair, args.corpus_per_lang, args.seed)
    print(f"wrote BEIR dev set to {args.out}: " + ", ".join(f"{k}={v}" for k, v in counts.items()))
    return 0


def _setup(args: argparse.Namespace) -> int:
    from synthir.llm.transformers_backend import embedded_gguf

    path, model_id = embedded_gguf()
    print(f"embedded LLM ready: {model_id} at {path}")
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

    r = sub.add_parser("run", help="run the main job locally (no orchestrator)")
    r.add_argument("config", help="run config YAML")
    r.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config key (value read as YAML), repeatable")
    r.add_argument("--out", help="output dir (same as --set output.dir=...)")
    r.add_argument("--no-progress", action="store_true", help="no progress bars")
    r.set_defaults(func=_run)

    f = sub.add_parser("filter", help="filter / round-trip / mine pairs you already have")
    f.add_argument("pairs", help="JSONL or Parquet with query, passage_id[, language]")
    f.add_argument("config", help="run config YAML (corpus, embedder, filters, mining, ...)")
    f.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    f.add_argument("--out", help="output dir (same as --set output.dir=...)")
    f.add_argument("--no-progress", action="store_true", help="no progress bars")
    f.set_defaults(func=_filter)

    pub = sub.add_parser("publish", help="re-publish a run dir (new split, licence, ...) and "
                         "push it when output.hub.repo_id is set")
    pub.add_argument("run_dir", help="output dir of a run")
    pub.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                     help="change an output.* / orchestration.* key, repeatable")
    pub.add_argument("--push", metavar="REPO_ID", help="push to this dataset repo "
                     "(same as --set output.hub.repo_id=REPO_ID); token from $HF_TOKEN")
    pub.set_defaults(func=_publish)

    e = sub.add_parser("eval", help="fine-tune a retriever on a dataset; base vs tuned on a BEIR dir")
    e.add_argument("dataset", help="published synthir dataset dir")
    e.add_argument("--beir", required=True, help="BEIR dir: corpus.jsonl, queries.jsonl, qrels/<split>.tsv")
    e.add_argument("--out", required=True, help="output dir (metrics.json, model/)")
    e.add_argument("--model", default="minilm", help="sentence-transformers model dir (default: "
                   "the packaged all-MiniLM-L6-v2)")
    e.add_argument("--config", default="auto", choices=["auto", "triplets", "pairs"])
    e.add_argument("--epochs", type=float, default=1.0)
    e.add_argument("--max-steps", type=int, default=-1)
    e.add_argument("--batch-size", type=int, default=32)
    e.add_argument("--lr", type=float, default=2e-5)
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--qrels-split", help="default: test, else dev, validation, train")
    e.add_argument("--query-prefix", default="")
    e.add_argument("--passage-prefix", default="")
    e.set_defaults(func=_eval)

    d = sub.add_parser("dev-set", help="BEIR dev set: bundled Wikipedia summaries (Wikidata "
                       "description -> summary), or real questions from Debian docs (rfaq: R FAQ; "
                       "gnome-help: GNOME app help, one dir per app and language under --out)")
    d.add_argument("--source", choices=["wiki", "rfaq", "gnome-help"], default="wiki")
    d.add_argument("--langs", nargs="+", default=None, help="default: en fr (wiki), en fr de es "
                   "(gnome-help), en (rfaq)")
    d.add_argument("--app", nargs="+", default=["gedit"], help="gnome-help apps (gedit evince eog)")
    d.add_argument("--combine-apps", action="store_true", help="gnome-help: one dev set per "
                   "language over all --app (dir APP1+APP2-LANG)")
    d.add_argument("--with-manuals", action="store_true", help="rfaq: other R manuals as distractors")
    d.add_argument("--out", required=True)
    d.add_argument("--queries-per-lang", type=int, default=100)
    d.add_argument("--cross-per-pair", type=int, default=50)
    d.add_argument("--corpus-per-lang", type=int, default=None, help="default: every summary")
    d.add_argument("--seed", type=int, default=0)
    d.set_defaults(func=_devset)

    s = sub.add_parser("setup", help="assemble and check the embedded model files")
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
    try:
        return args.func(args)
    except SynthirError as exc:
        print(f"synthir: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("synthir: interrupted; re-run the same command to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
