"""Split groups: passages that must land on the same side of the train/dev split.

A passage's group is the connected component of "same duplicate cluster" (synthir.dedup) and
"same document" (passages cut from one document) links; its key is the smallest passage id in
it, so a passage with no duplicate and a document of its own keeps its own id as key (the
split of a corpus without clusters or documents is unchanged). `output.dev_fraction` assigns
whole groups: no dev positive has a duplicate or a sibling chunk among the train positives.
"""

from __future__ import annotations

from collections.abc import Callable


def group_keys(cluster_of: dict[str, str], doc_of: dict[str, str]) -> Callable[[str], str]:
    """`key(passage id) -> group key` from {id: cluster id} and {id: doc id} (members only)."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(a: str, b: str) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    for pid, cid in cluster_of.items():
        union(f"p:{pid}", f"c:{cid}")
    for pid, doc in doc_of.items():
        union(f"p:{pid}", f"d:{doc}")
    smallest: dict[str, str] = {}
    for node in list(parent):
        if node.startswith("p:"):
            root = find(node)
            smallest[root] = min(smallest.get(root, node), node)

    def key(pid: str) -> str:
        node = f"p:{pid}"
        if node not in parent:
            return pid
        return smallest[find(node)][2:]

    return key
