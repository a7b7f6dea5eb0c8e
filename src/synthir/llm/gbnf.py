"""JSON schema -> llama.cpp GBNF grammar (structured output for the in-process llama.cpp
backend and for llama.cpp servers behind the openai backend). Needs llama-cpp-python."""

from __future__ import annotations

import json


def schema_to_gbnf(schema: str) -> str:
    """A llama.cpp GBNF grammar for a JSON schema that keeps the schema's property order
    (llama.cpp's default sorts keys; summarize-then-ask needs the summary first)."""
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    order = list((json.loads(schema).get("properties") or {}).keys())
    return json_schema_to_gbnf(schema, prop_order=order)
