"""Command line: `synthir run CONFIG [--set k=v ...] [--out DIR]`,
`synthir filter PAIRS CONFIG [--set k=v ...] [--out DIR]`, `synthir publish RUN_DIR [--set
k=v ...] [--push REPO_ID]`, `synthir setup`,
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
