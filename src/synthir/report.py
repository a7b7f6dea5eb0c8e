"""What a finished run prints: a one-screen summary of the publish result (CLI and flows).

Besides the funnel: the corpus (documents -> passages, detected languages, duplicate
clusters, a re-ingest after the corpus changed), every skip reason that took more than half
of a stage's input (`large_skips`, so it is seen here and not only in funnel.json), and, when
no pair was published, a last line saying why (`empty_reason`); the CLI then exits non-zero
unless `--allow-empty`.
"""

from __future__ import annotations

from typing import Any, get_args

from data_schemas.records import Rejected
from synthir.query_form import describe

# Rejected.stage values in pipeline order; ingest drops are on the corpus line.
DROP_STAGES = [s for s in get_args(Rejected.model_fields["stage"].annotation) if s != "ingest"]


LARGE_SHARE = 0.5


def _inputs(f: dict[str, Any]) -> dict[str, tuple[int, str]]:
    """{Rejected.stage: (items that entered it, what they are)}."""
    q, docs = f["queries"], f.get("documents", {})
    ingest = f["ingest"].get("kept", 0) + sum(f["dropped"].get("ingest", {}).values())
    return {"ingest": (ingest, "rows/passages"), "sample": (f["sample"].get("seen", 0), "passages"),
            "generate": (q["prompts"], "requested queries"), "parse": (q["generated"], "completions"),
            "filter": (q["parsed"], "queries"), "roundtrip": (q["filtered"], "queries"),
            "documents": (sum(d["generated"] for d in docs.values()), "documents"),
            "verify": (sum(d["parsed"] for d in docs.values()), "documents")}


def large_skips(f: dict[str, Any], share: float = LARGE_SHARE) -> list[str]:
    """One line per skip reason that took more than `share` of its stage's input."""
    inputs = _inputs(f)
    lines = []
    drops = {"sample": f["sample"].get("skipped", {}), **f["dropped"]}
    for stage, reasons in drops.items():
        total, what = inputs.get(stage, (0, "items"))
        for reason, n in sorted(reasons.items(), key=lambda kv: -kv[1]):
            if total and n / total > share:
                lines.append(f"  ! {stage}: {reason} skipped {n} of {total} {what} ({100 * n / total:.0f}%)")
    return lines


def _top(reasons: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(reasons.items(), key=lambda kv: -kv[1])[:3]) or "no reason recorded"


def empty_reason(f: dict[str, Any], top_k: int | None = None) -> str:
    """Why a run published no pair: the first stage of the funnel that ended with nothing."""
    q, dropped = f["queries"], f["dropped"]
    if not f["sample"].get("sampled"):
        return "no passage was sampled (sample.* guards)"
    if not q["prompts"]:
        return "no query was requested (generation.queries x languages)"
    if not q["generated"]:
        return f"every LLM call failed ({_top(dropped.get('generate', {}))}); check llm.*"
    if not q["parsed"]:
        return f"no completion parsed into a query ({_top(dropped.get('parse', {}))})"
    if not q["filtered"]:
        return f"the query filters dropped every query ({_top(dropped.get('filter', {}))})"
    j = f.get("judge") or {}
    if q.get("roundtrip_kept") and j.get("in") and not j.get("kept"):
        return (f"the judge dropped every query the round trip kept ({_top(dropped.get('judge', {}))})"
                + (f"; {j['cut_warning']}" if j.get("cut_warning") else "; see the card's judge section"))
    ranks = ", ".join(f"{k}: {v}" for k, v in f.get("source_rank", {}).items() if v)
    return (f"no query found its source passage in the top {top_k or 'K'} of the round trip "
            f"(source ranks {ranks or 'none'}); raise roundtrip.top_k or check the embedder")


def _corpus_lines(f: dict[str, Any]) -> list[str]:
    c = f.get("corpus") or {}
    lines = []
    d = c.get("documents")
    if d:
        lines.append(f"  docs     {d['documents']} documents -> {d['passages']} passages "
                     f"(<= {d['max_tokens']} tokens of {d['tokenizer']}, overlap {d['overlap']})")
    langs = c.get("languages") or {}
    if langs.get("detected"):
        lines.append("  langs    detected " + ", ".join(
            f"{k} {n}" + (f" ({langs['mean_confidence'][k]:.2f})" if k in langs.get("mean_confidence", {}) else "")
            for k, n in langs["detected"].items()))
    cl = c.get("clusters")
    if cl and cl.get("clusters"):
        lines.append(f"  dupes    {cl['clusters']} duplicate clusters ({cl['exact_clusters']} exact, "
                     f"{cl['near_clusters']} near) holding {cl['passages_in_clusters']} passages")
    if c.get("reingested"):
        lines.append("  note     the corpus changed since it was last ingested: re-ingested")
    return lines


def _cached(y: dict[str, Any]) -> str:
    share = y.get("cached_call_share")
    return f" ({100 * share:.0f}% of the calls from the LLM cache)" if share else ""


def _form_lines(f: dict[str, Any]) -> list[str]:
    """One line per `method/language`: the kept queries' form and the in-domain examples' (the
    target style, when the method has an examples_file; synthir.query_form)."""
    lines = []
    for k, q in sorted(f.get("query_form", {}).items()):
        if not q.get("kept"):
            continue
        ex = ""
        if "examples" in q:
            ex = f"; in-domain examples {describe(q['examples'])}" if q["examples"] else \
                "; in-domain examples: file not readable here"
        lines.append(f"  form  {k}: kept queries {describe(q['kept'])}{ex}")
    return lines


def summary_text(result: dict[str, Any]) -> str:
    """A one-screen summary of a finished run (the publish result)."""
    f = result["funnel"]
    lines = [
        f"synthir: dataset written to {result['dir']}",
        f"  corpus   {f['ingest']['read']} {'documents' if f['ingest'].get('documents') else 'rows'} read, "
        f"{f['ingest']['kept']} passages kept"
        + "".join(f", {k}={v}" for k, v in sorted(f["dropped"].get("ingest", {}).items())),
        *_corpus_lines(f),
        f"  sampled  {f['sample']['sampled']} passages "
        + " ".join(f"{k}={v}" for k, v in sorted(f["sample"]["sampled_by_lang"].items()))
        + (f" ({f['sample']['cut_for_prompt']} longer than sample.max_chars: prompts show their head)"
           if f["sample"].get("cut_for_prompt") else ""),
        "  lang   prompts  generated  parsed  filtered  kept",
    ]
    for lang, c in sorted(f["by_language"].items()):
        lines.append(f"  {lang:<6} {c['prompts']:>7}  {c['generated']:>9}  {c['parsed']:>6}  "
                     f"{c['filtered']:>8}  {c['roundtrip_kept']:>4}")
    for k, y in sorted(f.get("passage_yield", {}).items()):
        retired = f" ({y['retired_examples']} examples retired by the copy probe)" if y.get("retired_examples") else ""
        lines.append(f"  yield {k}: {y['passages_with_kept']}/{y['passages']} passages with a kept query, "
                     f"{y['kept_per_passage']} kept/passage, copied-example rate {y['copied_example_rate']}{retired}, "
                     f"{y['kept_pairs_per_hour']} kept pairs/hour" + _cached(y))
    lines += _form_lines(f)
    for m, c in sorted(f.get("by_method", {}).items()):
        lines.append(f"  method {m}: {c['prompts']} requested, {c['parsed']} parsed, "
                     f"{c['roundtrip_kept']} kept")
    for m, c in sorted(f.get("documents", {}).items()):
        lines.append(f"  documents {m}: {c['prompts']} requested, {c['parsed']} parsed, "
                     f"{c['verified']} verified")
    if f.get("contamination"):
        c = f["contamination"]
        lines.append(f"  eval contamination: dropped {c['queries_dropped']} queries, "
                     f"{c['documents_dropped']} documents")
    j = f.get("judge") or {}
    if j:
        o = j.get("outcomes", {})
        lines.append(f"  judge    {j.get('in', 0)} judged: confirmed={o.get('confirmed', 0)} promoted={o.get('promoted', 0)} "
                     f"added={o.get('added', 0)} demoted={j.get('demoted', 0)} dropped={o.get('dropped', 0)} "
                     f"unjudged={o.get('unjudged', 0)}; {j.get('asked', 0)} verdicts asked"
                     + (f", {j['prejudge_saved']} saved by the pre-judge" if j.get("prejudge") else ""))
        q = (j.get("p_yes_quantiles") or {}).get("source")
        if q and q.get("n"):
            c = j["p_yes_quantiles"].get("candidate") or {}
            lines.append(f"  judge    P(yes) of sources p10/p50/p90 {q['p10']}/{q['p50']}/{q['p90']}"
                         + (f", of candidates {c['p10']}/{c['p50']}/{c['p90']}" if c.get("n") else ""))
        if j.get("cut_warning"):
            lines.append(f"  WARNING  {j['cut_warning']}")
    r = f.get("rounds") or {}
    if r.get("rounds"):
        lines.append(f"  target   {r['target']['kept_pairs']}: {r['kept']['total']} kept in {len(r['rounds'])} round(s) "
                     f"over {r['sampled']} passages ({r['stopped'] or 'not finished'})")
    b = f.get("budget") or {}
    if b.get("stopped"):
        lines.append(f"  budget   STOPPED ({b['stopped']['reason']}): published what was finished; re-run with a "
                     "larger budget to continue (nothing is asked twice)")
    if f.get("mining", {}).get("mined") is not None:
        lines.append(f"  mined    {f['mining']['mined']} hard negatives for {f['mining'].get('queries', 0)} pairs")
    for stage in DROP_STAGES:
        reasons = f["dropped"].get(stage)
        if reasons:
            lines.append(f"  dropped at {stage}: " + ", ".join(f"{k}={v}" for k, v in sorted(reasons.items())))
    t = f["tokens"]
    lines.append(f"  tokens   {t.get('prompt', 0)} prompt + {t.get('completion', 0)} completion, "
                 f"{t.get('cached_calls', 0)}/{t.get('calls', 0)} calls from cache"
                 + (f", {t['cache_repaired']} bad cache entries re-requested" if t.get("cache_repaired") else ""))
    lines.append("  configs  " + ", ".join(f"{k}={v}" for k, v in result["rows"].items()))
    if "seconds" in result:
        lines.append(f"  time     {result['seconds']} s")
    lines.append(f'  load     datasets.load_dataset("{result["dir"]}", "pairs")')
    if result.get("hub"):
        lines.append(f"  pushed   {result['hub']['repo_url']} ({result['hub']['added']} files, "
                     f"{result['hub']['deleted']} stale removed)")
    lines += large_skips(f)
    if not result["rows"].get("pairs"):
        lines.append(f"synthir: 0 pairs published: {empty_reason(f, result.get('top_k'))}")
    return "\n".join(lines)
