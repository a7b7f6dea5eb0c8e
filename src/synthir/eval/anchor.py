"""MNRL with an anchor to the base model: the fine-tune pays for moving the batch's embeddings
away from where the base put them (`TrainOptions.anchor`).

Loss per batch: MNRL(student) + w * mean over every text of the batch (queries, positives,
negatives) of (1 - cos(student(x), base(x))), where `base` is a frozen copy of the student
taken before training (no dropout) and w = `TrainOptions.anchor`.

Why: on dev sets whose base already ranks most questions first (set 2, 0.89-0.91; FFmpeg's and
zsh's FAQs), the fine-tune loses some of base's hits (docs/results.md §8af, §8bl). Holding the
student's outputs near the original network's on the new data is Learning without Forgetting
(Li & Hoiem, 2016, arXiv:1606.09282); for sentence embeddings the same pull is the MSE / cosine
distillation of Reimers & Gurevych (2020, arXiv:2004.09813) with the base as its own teacher.
Unlike freezing (eval/freeze.py) every weight still trains, and unlike WiSE-FT (weights
averaged after training, §8ae) the pull acts on this corpus's texts only. Measured
(docs/results.md §8bq, e5-small, w = 3 chosen on a human-train half): Spanish set 2 +0.005 over
unanchored students (not significant), with fewer of base's hits lost; the program FAQs -0.004 (3 seeds)
(FFmpeg's high base +0.033, fetchmail's low one -0.018); steps 1.3-1.4x slower on 2 CPU cores
(the frozen copy's forward). So the default is 0.

Inputs: the student (a SentenceTransformer), the MNRL loss built for it, w > 0. Output: a
sentence-transformers loss module (`forward(sentence_features, labels) -> loss`); its `guide` is
the frozen base copy (eval/train.py runs it in the student's length-sorted chunks). `last_drift`
holds the last batch's mean 1 - cos, `mean_drift` the mean over every batch so far (finetune
reports it).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from synthir.eval.freeze import frozen_copy


class AnchoredMNRL(nn.Module):
    """MNRL + w * mean(1 - cos(student, frozen base)) over the batch's texts (module docstring)."""

    def __init__(self, model: Any, mnrl: Any, weight: float) -> None:
        super().__init__()
        if not weight > 0:
            raise ValueError(f"the anchor weight must be > 0 (got {weight})")
        self.model = model
        self.mnrl = mnrl
        self.weight = float(weight)
        self.guide = frozen_copy(model)  # a submodule, as GISTEmbedLoss's guide: moved with the loss, never trained
        self.last_drift = 0.0
        self._drifts: list[float] = []

    def forward(self, sentence_features: list[dict[str, torch.Tensor]], labels: torch.Tensor) -> torch.Tensor:
        from sentence_transformers.base.losses.merged_forward import embed_columns

        features = list(sentence_features)
        inputs = [dict(f) for f in features]  # before the student's forward writes its outputs into `features`
        embeddings = embed_columns(self.model, features)
        loss = self.mnrl.compute_loss_from_embeddings(embeddings, labels)
        with torch.no_grad():
            reference = embed_columns(self.guide, inputs)
        drift = torch.cat([1.0 - torch.cosine_similarity(e.float(), r.float().to(e.device), dim=-1)
                           for e, r in zip(embeddings, reference)]).mean()
        self.last_drift = float(drift.detach())
        self._drifts.append(self.last_drift)
        return loss + self.weight * drift

    @property
    def mean_drift(self) -> float:
        return sum(self._drifts) / len(self._drifts) if self._drifts else 0.0

    def get_config_dict(self) -> dict[str, Any]:
        return {**self.mnrl.get_config_dict(), "anchor": self.weight}
