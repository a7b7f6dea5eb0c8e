"""Duplicate clusters of corpus passages, found once at ingest (corpus.dedup).

- exact: the same text once lower-cased and whitespace-collapsed;
- near: MinHash signatures of word 3-gram shingles (character 5-grams for texts of fewer
  than 8 words, e.g. unspaced scripts) indexed in a MinHash LSH (datasketch: maintained, MIT,
  numpy only; bands weighted for recall, see LSH_WEIGHTS); an LSH candidate joins the cluster
  when its estimated Jaccard similarity is >= `corpus.dedup.threshold`.

Clusters are the connected components of those links (union-find); a cluster's id is its
first passage in corpus order. Only passages in a cluster of two or more are recorded.
Memory: one signature per passage (num_perm x 4 bytes) plus the LSH buckets.

Inputs: passages in corpus order (`add`), the DedupConfig. Output (`clusters()`): `Clusters`
{passage id: cluster id}, {cluster id: exact | near}.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from data_schemas.config import DedupConfig

_WORD = re.compile(r"\w+")
_WS = re.compile(r"\s+")
SHINGLE_WORDS = 3
CHAR_GRAMS = 5
MIN_WORDS = 8
BATCH = 1024
SEED = 1
# LSH bands tuned for recall (false negatives weigh 0.95): with 64 permutations and threshold
# 0.8, a pair at Jaccard 0.84 is a candidate 99% of the time (47% with equal weights); the extra
# candidates cost one signature comparison each.
LSH_WEIGHTS = (0.05, 0.95)


def text_key(text: str) -> bytes:
    """The exact-duplicate key: blake2b of the lower-cased, whitespace-collapsed text."""
    return hashlib.blake2b(_WS.sub(" ", text.lower()).strip().encode("utf-8"), digest_size=8).digest()


def shingles(text: str) -> set[bytes]:
    """Word 3-grams of the lower-cased text; character 5-grams when it has < 8 words."""
    words = _WORD.findall(text.lower())
    if len(words) >= MIN_WORDS:
        return {" ".join(words[i:i + SHINGLE_WORDS]).encode("utf-8") for i in range(len(words) - SHINGLE_WORDS + 1)}
    flat = _WS.sub(" ", text.lower()).strip()
    return {flat[i:i + CHAR_GRAMS].encode("utf-8") for i in range(max(1, len(flat) - CHAR_GRAMS + 1))}


@dataclass
class Clusters:
    """`cluster_of` {passage id: cluster id} for passages with a duplicate; `kind` {cluster id:
    exact (all members share one text) | near}."""

    cluster_of: dict[str, str] = field(default_factory=dict)
    kind: dict[str, str] = field(default_factory=dict)

    def members(self) -> dict[str, list[str]]:
        """{cluster id: [passage ids]}."""
        out: dict[str, list[str]] = {}
        for pid, cid in self.cluster_of.items():
            out.setdefault(cid, []).append(pid)
        return out

    def same(self, a: str, b: str) -> bool:
        """Whether passages a and b are duplicates of each other (one cluster)."""
        ca = self.cluster_of.get(a)
        return ca is not None and ca == self.cluster_of.get(b)

    def stats(self) -> dict[str, int]:
        """clusters, exact_clusters, near_clusters, passages_in_clusters, duplicates (members
        beyond the first of each cluster)."""
        sizes = {cid: len(m) for cid, m in self.members().items()}
        return {"clusters": len(sizes), "exact_clusters": sum(1 for k in self.kind.values() if k == "exact"),
                "near_clusters": sum(1 for k in self.kind.values() if k == "near"),
                "passages_in_clusters": sum(sizes.values()), "duplicates": sum(sizes.values()) - len(sizes)}

    def rows(self) -> list[dict[str, Any]]:
        """[{id, cluster_id, kind}] for the clusters file."""
        return [{"id": pid, "cluster_id": cid, "kind": self.kind[cid]} for pid, cid in self.cluster_of.items()]


class DuplicateFinder:
    """Streams passages (`add(id, text)`, corpus order) and links duplicates (see module doc)."""

    def __init__(self, cfg: DedupConfig) -> None:
        self.cfg = cfg
        self.ids: list[str] = []
        self._parent: list[int] = []
        self._near: set[int] = set()  # roots of components joined by a near link
        self._exact: dict[bytes, int] = {}
        self._pending: list[tuple[int, set[bytes]]] = []
        self._sigs: list[np.ndarray] = []
        self._row: dict[int, int] = {}  # passage index -> row of _sigs
        self._lsh = None
        if cfg.enabled and cfg.near:
            from datasketch import MinHashLSH

            self._lsh = MinHashLSH(threshold=cfg.threshold, num_perm=cfg.num_perm, weights=LSH_WEIGHTS)

    def _find(self, i: int) -> int:
        while self._parent[i] != i:
            self._parent[i] = self._parent[self._parent[i]]
            i = self._parent[i]
        return i

    def _union(self, a: int, b: int, near: bool) -> None:
        ra, rb = self._find(a), self._find(b)
        root, child = min(ra, rb), max(ra, rb)
        if ra != rb:
            self._parent[child] = root
            if child in self._near:
                self._near.discard(child)
                self._near.add(root)
        if near:
            self._near.add(root)

    def add(self, pid: str, text: str) -> None:
        i = len(self.ids)
        self.ids.append(pid)
        self._parent.append(i)
        if not self.cfg.enabled:
            return
        key = text_key(text)
        if key in self._exact:
            self._union(self._exact[key], i, near=False)
            return
        self._exact[key] = i
        if self._lsh is not None:
            self._pending.append((i, shingles(text)))
            if len(self._pending) >= BATCH:
                self._flush()

    def _flush(self) -> None:
        from datasketch import MinHash

        if not self._pending:
            return
        hashes = MinHash.bulk([s for _, s in self._pending], num_perm=self.cfg.num_perm, seed=SEED)
        for (i, _), m in zip(self._pending, hashes):
            sig = np.asarray(m.hashvalues, dtype=np.uint32)
            for cand in self._lsh.query(m):
                j = int(cand)
                if float(np.mean(self._sigs[self._row[j]] == sig)) >= self.cfg.threshold:
                    self._union(j, i, near=True)
            self._lsh.insert(str(i), m)
            self._row[i] = len(self._sigs)
            self._sigs.append(sig)
        self._pending = []

    def clusters(self) -> Clusters:
        """The clusters of every passage added so far."""
        self._flush()
        groups: dict[int, list[int]] = {}
        for i in range(len(self.ids)):
            groups.setdefault(self._find(i), []).append(i)
        out = Clusters()
        for root, members in groups.items():
            if len(members) < 2:
                continue
            cid = self.ids[root]
            out.kind[cid] = "near" if root in self._near else "exact"
            for m in members:
                out.cluster_of[self.ids[m]] = cid
        return out
