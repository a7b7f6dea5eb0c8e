"""Generators: each is build_prompts(...) -> llm.generate -> parse(item, gen) -> record | Rejected."""
