"""GPU smoke test of the vLLM backend: run it on a machine with a GPU and vLLM installed
(`pip install 'synthir[vllm]'` in its own environment, see README).

    python scripts/vllm_smoke.py [--model embedded|/path/to/hf-model] [--out result.json]

It loads the model with `vllm.LLM`, generates Promptagator queries for a few built-in passages
in English and French (greedy, batched), runs summarize-then-ask with structured output
(vLLM StructuredOutputsParams JSON), checks every output parses, and writes a JSON result
with timings. Exit code 0 only if all checks pass. Nothing is fetched: `embedded` is the
Gemma GGUF shipped in the registry package.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from data_schemas.config import RunConfig
from data_schemas.records import Passage, QueryRecord
from synthir.generators import query_generators
from synthir.llm.registry import get_llm

PASSAGES = [
    Passage(id="en:eiffel", lang="en", text="The Eiffel Tower is a wrought-iron lattice tower on the "
            "Champ de Mars in Paris, France. It was completed in 1889 for the World's Fair."),
    Passage(id="en:nile", lang="en", text="The Nile is a major north-flowing river in northeastern "
            "Africa. It flows into the Mediterranean Sea and is about 6,650 km long."),
    Passage(id="fr:louvre", lang="fr", text="Le musée du Louvre, à Paris, est le musée d'art le plus "
            "visité au monde. Il occupe l'ancien palais royal du Louvre."),
    Passage(id="fr:curie", lang="fr", text="Marie Curie est une physicienne et chimiste, pionnière de "
            "la radioactivité et deux fois lauréate du prix Nobel."),
]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--model", default="embedded")
    p.add_argument("--api", default="completions", choices=["completions", "chat"])
    p.add_argument("--out", default="vllm_smoke.json")
    args = p.parse_args(argv)
    cfg = RunConfig.model_validate({
        "corpus": {"path": "unused"}, "languages": ["en", "fr"],
        "llm": {"backend": "vllm", "model": args.model, "api": args.api, "max_new_tokens": 32,
                "gpu_memory_utilization": 0.5, "context_length": 2048},
        "generation": {"queries": [{"method": "promptagator"},
                                   {"method": "sap", "structured": True, "max_new_tokens": 160}],
                       "language_check": False}})
    t0 = time.time()
    llm = get_llm(cfg.llm)
    result: dict = {"model": llm.model_id, "load_s": round(time.time() - t0, 2), "methods": {}}
    ok = True
    for gen in query_generators(cfg):
        items = gen.build_prompts(PASSAGES, cfg.languages)
        params = gen.sampling_params()
        t = time.time()
        outs = llm.generate([i.text for i in items], params)
        secs = time.time() - t
        parsed = [gen.parse(i, g, llm.backend, llm.model_id) for i, g in zip(items, outs)]
        records = [r for r in parsed if isinstance(r, QueryRecord)]
        errors = [g.error for g in outs if g.finish_reason == "error"]
        name = gen.name + ("_structured" if gen.m.structured else "")
        result["methods"][name] = {
            "prompts": len(items), "seconds": round(secs, 3), "errors": errors,
            "parsed": len(records), "completion_tokens": sum(g.completion_tokens for g in outs),
            "samples": [{"lang": i.lang, "text": g.text[:200]} for i, g in zip(items, outs)][:4]}
        ok &= not errors and len(records) > 0
        if gen.m.structured:  # constrained decoding: every output must be valid JSON
            valid = sum(1 for g in outs if g.text.strip().startswith("{"))
            result["methods"][name]["json_outputs"] = valid
            ok &= valid == len(outs)
    result["ok"] = bool(ok)
    Path(args.out).write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
