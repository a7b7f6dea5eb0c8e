"""What a finished run prints: a one-screen summary of the publish result (CLI and flows)."""

from __future__ import annotations

from typing import Any, get_args

from data_schemas.records import Rejected

# Rejected.stage values in pipeline order; ingest drops are on the corpus line.
DROP_STAGES = [s for s in get_args(Rejected.model_fields["stage"].annotation) if s != "ingest"]


def summary_text(result: dict[str, Any]) -> str:
    """A one-screen summary of a finished run."""
    f = result["funnel"]
    lines = [
        f"synthir: dataset written to {result['dir']}",
        f"  corpus   {f['ingest']['read']} rows read, {f['ingest']['kept']} kept"
        + "".join(f", {k}={v}" for k, v in sorted(f["dropped"].get("ingest", {}).items())),
        f"  sampled  {f['sample']['sampled']} passages "
        + " ".join(f"{k}={v}" for k, v in sorted(f["sample"]["sampled_by_lang"].items())),
        "  lang   prompts  generated  parsed  filtered  kept",
    ]
    for lang, c in sorted(f["by_language"].items()):
        lines.append(f"  {lang:<6} {c['prompts']:>7}  {c['generated']:>9}  {c['parsed']:>6}  "
                     f"{c['filtered']:>8}  {c['roundtrip_kept']:>4}")
    for k, y in sorted(f.get("passage_yield", {}).items()):
        lines.append(f"  yield {k}: {y['passages_with_kept']}/{y['passages']} passages with a kept query, "
                     f"{y['kept_per_passage']} kept/passage, copied-example rate {y['copied_example_rate']}, "
                     f"{y['kept_pairs_per_hour']} kept pairs/hour")
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
    return "\n".join(lines)
