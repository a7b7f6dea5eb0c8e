"""synthir.llm.models' split GGUFs (`embedded-instruct`, `embedded-instruct-1.5b`): a missing
part names the extra to install, the parts are joined in order and checked, a join with the
wrong sha256 is refused and never kept, and the model id carries the pinned hash."""

from __future__ import annotations

import hashlib
from types import SimpleNamespace

import pytest

from data_schemas.config import LLMConfig
from synthir.llm import models
from synthir.llm.models import SPLIT, SplitGGUF, embedded_instruct_gguf, weights_identity


def test_model_ids_carry_the_pinned_hash():
    assert weights_identity(LLMConfig(model="embedded-instruct-1.5b")) == \
        "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf@sha256:cc324af070c2ecbf"
    assert weights_identity(LLMConfig(model="embedded-instruct")).startswith("qwen2.5-coder-0.5b-instruct")
    assert len(SPLIT["embedded-instruct-1.5b"].parts) == 22


@pytest.mark.parametrize("name,extra", [("embedded-instruct", "instruct"), ("embedded-instruct-1.5b", "instruct-1-5b")])
def test_a_missing_part_names_the_extra(monkeypatch, tmp_path, name, extra):
    monkeypatch.setenv("SYNTHIR_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(models.importlib.util, "find_spec", lambda module: None)
    with pytest.raises(ImportError, match=rf"model: {name} needs .*pip install 'synthir\[{extra}\]'"):
        embedded_instruct_gguf(name)


def _parts(tmp_path, blobs):
    specs = {}
    for i, blob in enumerate(blobs, 1):
        pkg = tmp_path / f"fake_part{i}"
        (pkg / "data").mkdir(parents=True)
        (pkg / "data" / f"part{i:02d}.bin").write_bytes(blob)
        (pkg / "__init__.py").write_text("")
        specs[f"fake_part{i}"] = SimpleNamespace(origin=str(pkg / "__init__.py"))
    return specs


def test_parts_are_joined_in_order_and_a_bad_join_is_never_kept(monkeypatch, tmp_path):
    cache = tmp_path / "cache"
    monkeypatch.setenv("SYNTHIR_CACHE_DIR", str(cache))
    blobs = [b"GGUF-one-", b"two-", b"three"]
    specs = _parts(tmp_path, blobs)
    monkeypatch.setattr(models.importlib.util, "find_spec", lambda module: specs.get(module))
    whole = b"".join(blobs)
    good = SplitGGUF("fake.gguf", list(specs), len(whole), hashlib.sha256(whole).hexdigest(), "fake")
    bad = good._replace(file="bad.gguf", sha256="0" * 64)
    monkeypatch.setitem(SPLIT, "fake-good", good)
    monkeypatch.setitem(SPLIT, "fake-bad", bad)
    out = embedded_instruct_gguf("fake-good")
    assert out.read_bytes() == whole and out.parent == cache / "models"
    with pytest.raises(ValueError, match="has size 18 and sha256"):
        embedded_instruct_gguf("fake-bad")
    assert sorted(p.name for p in (cache / "models").iterdir()) == ["fake.gguf"]  # no bad file, no temp file
