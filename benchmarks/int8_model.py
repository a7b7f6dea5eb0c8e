"""Carry a sentence-transformers folder to a machine that cannot download it, in a quarter of
its size: `pack` stores every float matrix as int8 with one fp32 scale per row (absmax) and
every other tensor as it is; `unpack` writes the fp32 folder back (model.safetensors rebuilt,
the other files copied). For the device check of `synthir eval --device cuda`
(benchmarks/device_eval.sh): the device takes at most 64 MiB per call, and all-MiniLM-L6-v2 is
90 MB in fp32. The round trip changes embeddings by cosine > 0.999 (`check` prints it); the
check compares the GPU and CPU runs of the SAME unpacked model, so that loss is shared.

    python benchmarks/int8_model.py pack MODEL_DIR PACKED_DIR
    python benchmarks/int8_model.py unpack PACKED_DIR MODEL_DIR
    python benchmarks/int8_model.py check MODEL_DIR UNPACKED_DIR
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np

WEIGHTS = "model.safetensors"
PACKED = "weights-int8.npz"


def pack(src: Path, dst: Path) -> None:
    from safetensors.numpy import load_file

    dst.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, np.ndarray] = {}
    for name, t in load_file(str(src / WEIGHTS)).items():
        if t.ndim == 2 and t.dtype == np.float32:
            scale = np.maximum(np.abs(t).max(axis=1, keepdims=True), 1e-12) / 127.0
            arrays[f"q8:{name}"] = np.round(t / scale).astype(np.int8)
            arrays[f"s8:{name}"] = scale.astype(np.float32)
        else:
            arrays[f"raw:{name}"] = t
    np.savez_compressed(dst / PACKED, **arrays)
    for p in src.rglob("*"):
        if p.is_file() and p.name != WEIGHTS:
            (dst / p.relative_to(src)).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(p, dst / p.relative_to(src))


def unpack(src: Path, dst: Path) -> None:
    from safetensors.numpy import save_file

    shutil.copytree(src, dst, dirs_exist_ok=True, ignore=shutil.ignore_patterns(PACKED))
    packed = np.load(src / PACKED)
    out: dict[str, np.ndarray] = {}
    for key in packed.files:
        kind, name = key.split(":", 1)
        if kind == "q8":
            out[name] = (packed[key].astype(np.float32) * packed[f"s8:{name}"]).astype(np.float32)
        elif kind == "raw":
            out[name] = packed[key]
    save_file(out, str(dst / WEIGHTS), metadata={"format": "pt"})


def check(a: Path, b: Path) -> float:
    from sentence_transformers import SentenceTransformer

    texts = ["How do I print a document?", "Zoom in on an image", "passage: Press Ctrl+P to print."]
    ea = SentenceTransformer(str(a), device="cpu").encode(texts, normalize_embeddings=True)
    eb = SentenceTransformer(str(b), device="cpu").encode(texts, normalize_embeddings=True)
    return float((ea * eb).sum(axis=1).min())


if __name__ == "__main__":
    cmd, x, y = sys.argv[1:4]
    if cmd == "check":
        print(f"min cosine, original vs unpacked: {check(Path(x), Path(y)):.5f}")
    else:
        {"pack": pack, "unpack": unpack}[cmd](Path(x), Path(y))
