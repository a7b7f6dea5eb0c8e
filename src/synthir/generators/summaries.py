"""One-sentence summaries for SWIM-IR summarize-then-ask's few-shot examples.

SWIM-IR (Thakur et al., 2024, "Leveraging LLMs for Synthesizing Training Data Across Many
Languages in Multilingual Dense Retrieval") prompts with (passage, summary, query) examples:
the model summarises the passage, then asks. In-domain examples drawn from your own labelled
questions (`synthir examples`, Promptagator's 8 pairs) have a passage and a query but no
summary; `summarize_examples` has the run's LLM write one per example (greedy, in the
passage's language, prompt `sap/example_summary.j2`), so those examples can prompt `method: sap`.

Input: example rows ({"passage", "query", "lang", ...}), the run's LLMConfig, a PromptLibrary.
Output: the same rows with `summary` and `summary_prompt_sha256` added. An example the model
wrote no usable summary for (failed call, cut off, empty, wrong language) is an InputError
naming it: an example without a summary cannot prompt SAP, so none is silently left out.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from data_schemas.config import LLMConfig, RunConfig
from data_schemas.languages import language_name
from synthir.errors import InputError
from synthir.generators.chat import chat_answer
from synthir.generators.common import check_language, clean_line
from synthir.io.files import write_jsonl_atomic
from synthir.langid import LanguageID
from synthir.llm.base import LLM, SamplingParams
from synthir.prompting import PromptLibrary, read_examples

TEMPLATE = "sap/example_summary.j2"
_LABEL = re.compile(r"^(?:summary|zusammenfassung|résumé|resumen)\s*[:：]\s*", re.IGNORECASE)
MAX_TOKENS = 96


def summary_of(text: str, finish_reason: str, api: str) -> tuple[str, str]:
    """(summary, "") or ("", why not) for one greedy completion: chat answers lose their preamble
    and label (chat_answer); a completion's first line is the summary."""
    if finish_reason == "error":
        return "", "the LLM call failed"
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if api == "chat":  # a chat model may open with a label line ("Zusammenfassung:") or a preamble
        while len(lines) > 1 and lines[0].strip().replace("**", "").endswith((":", "：")):
            lines = lines[1:]
        line, last = chat_answer("\n".join(lines))
    else:
        line, last = (lines or [""])[0], len(lines) <= 1
    line = clean_line(_LABEL.sub("", line))
    if not line:
        return "", "the answer is empty"
    if finish_reason == "length" and last:
        return "", f"cut off at {MAX_TOKENS} tokens"
    return line, ""


def summarize_examples(rows: list[dict[str, Any]], llm_cfg: LLMConfig, llm: LLM,
                       library: PromptLibrary | None = None) -> list[dict[str, Any]]:
    """`rows` with a `summary` (and the prompt's sha256) each, written by `llm` (built from
    `llm_cfg`; greedy). Rows need `passage` and `lang`. Raises InputError for the first row
    without a usable summary."""
    lib = library or PromptLibrary()
    tpl = lib.template(TEMPLATE, {"passage", "passage_language_name"})
    try:
        names = [language_name(r["lang"]) for r in rows]
    except ValueError as exc:
        raise InputError(f"examples: {exc}") from None
    prompts = [tpl.render(passage=r["passage"], passage_language_name=n) for r, n in zip(rows, names)]
    stop = () if llm_cfg.api == "chat" else ("\n",)
    gens = llm.generate(prompts, SamplingParams(temperature=0.0, max_tokens=MAX_TOKENS, stop=stop))
    langid = LanguageID(sorted({r["lang"] for r in rows}))
    out = []
    for i, (row, gen) in enumerate(zip(rows, gens), 1):
        summary, why = summary_of(gen.text, gen.finish_reason, llm_cfg.api)
        bad = None if why else check_language(langid, summary, row["lang"])
        if why or bad:
            raise InputError(f"example {i} ({row['query'][:40]!r}): no summary for SAP: "
                             f"{why or bad[1]}{f' ({gen.error})' if gen.error else ''}")
        out.append({**row, "summary": summary, "summary_prompt_sha256": tpl.sha256})
    return out


def summarize_file(path: Path, cfg: RunConfig) -> list[dict[str, Any]]:
    """Add summaries (summarize_examples, with `cfg`'s LLM and prompts dir) to the examples_file
    at `path`, rewritten in place; returns the rows written."""
    from synthir.llm.registry import get_llm

    rows, _ = read_examples(path)
    missing = [i for i, r in enumerate(rows, 1) if not all(isinstance(r.get(k), str) for k in ("passage", "query", "lang"))]
    if missing:
        raise InputError(f"{path.name}: rows {missing} need string fields passage, query and lang "
                         "(the summary prompt is written in the passage's language)")
    rows = summarize_examples(rows, cfg.llm, get_llm(cfg.llm), PromptLibrary(cfg.generation.prompts_dir))
    write_jsonl_atomic(path, rows)  # in place, so a crash must not leave half the user's examples
    return rows
