"""Hedged visual tags: each tag as specific as the frame classifier is sure of it.

The classifier knows 1000 ImageNet classes, which are leaves of WordNet's noun hierarchy. When it
spreads its belief over many similar classes ("tabby", "tiger cat", "Egyptian cat"), no single
class is likely, yet their common ancestor ("cat") is; when it is unsure of everything, saying
"albatross" at 10 % is worse than saying nothing. So a tag is a node of the hierarchy, its
probability the sum over the classes under it, and among the nodes likely enough we say the most
specific one: the accuracy/specificity trade-off of Deng et al., "Hedging your bets: optimizing
accuracy-specificity trade-offs in large scale visual recognition" (CVPR 2012), with a fixed
confidence in place of their learned one.

The hierarchy (videobert/data/imagenet_hierarchy.json) is derived from WordNet 3.0 once by
scripts/build_imagenet_hierarchy.py; nothing here needs WordNet at run time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from videobert.locations import imagenet_class_names

# Nodes too general to tell anyone anything, or named in a way nobody says.
UNSAYABLE = frozenset(
    {
        "entity",
        "physical entity",
        "abstraction",
        "object",
        "whole",
        "artifact",
        "instrumentality",
        "matter",
        "living thing",
        "organism",
        "causal agent",
        "natural object",
        "part",
        "relation",
        "psychological feature",
        "group",
        "attribute",
        "measure",
        "communication",
        "chordate",
        "vertebrate",
        "placental",
        "invertebrate",
        "arthropod",
        "diapsid",
        "aquatic vertebrate",
        "odd-toed ungulate",
        "even-toed ungulate",
        "ungulate",
        "conveyance",
        "craft",
        "commodity",
        "covering",
        "device",
        "container",
        "implement",
        "equipment",
        "structure",
        "surface",
        "creation",
        "decoration",
        "material",
        "substance",
        "solid",
        "food",
        "foodstuff",
        "produce",
        "physical phenomenon",
        "process",
        "geological formation",
        "system",
        "way",
        "area",
        "region",
        "location",
        "point",
    }
)
# Plainer names for common hedges (WordNet's first lemma is sometimes the zoologist's).
PLAIN = {
    "domestic dog": "dog",
    "domestic cat": "cat",
    "canine": "dog family",
    "feline": "cat family",
    "self-propelled vehicle": "vehicle",
    "wheeled vehicle": "vehicle",
    "passerine": "songbird",
    "oscine": "songbird",
    "anthropoid ape": "ape",
    "edible fruit": "fruit",
    "vessel": "ship or boat",
    "consumer goods": "goods",
}
MIN_BITS = 1.0  # a tag rules out at least half of the classes, or it says nothing


@dataclass(frozen=True)
class Hierarchy:
    names: tuple[str, ...]  # per node
    under: np.ndarray  # (nodes, 1000) float32: 1 where the class is the node or below it
    bits: np.ndarray  # (nodes,) information a node gives: log2(1000 / classes under it)
    ancestors: tuple[frozenset[int], ...]  # per node: the nodes above it (itself excluded)
    sayable: np.ndarray  # (nodes,) bool


@lru_cache(maxsize=1)
def load_hierarchy() -> Hierarchy:
    raw = json.loads(
        (resources.files("videobert") / "data" / "imagenet_hierarchy.json").read_text("utf-8")
    )
    leaves: list[str] = raw["leaves"]
    nodes: dict[str, dict] = raw["nodes"]
    ids = list(nodes)
    index = {w: i for i, w in enumerate(ids)}
    class_names = imagenet_class_names()
    leaf_of = {w: i for i, w in enumerate(leaves)}

    parents = [[index[p] for p in nodes[w]["parents"] if p in index] for w in ids]
    done: dict[int, frozenset[int]] = {}

    def above(i: int) -> frozenset[int]:
        if i not in done:
            out: set[int] = set()
            for p in parents[i]:
                out.add(p)
                out |= above(p)
            done[i] = frozenset(out)
        return done[i]

    under = np.zeros((len(ids), len(leaves)), np.float32)
    for w, c in leaf_of.items():
        i = index[w]
        under[i, c] = 1.0
        for a in above(i):
            under[a, c] = 1.0
    ancestors = [above(i) for i in range(len(ids))]
    counts = under.sum(axis=1)
    bits = np.log2(len(leaves) / np.maximum(counts, 1.0)).astype(np.float32)
    names = []
    for w in ids:
        if w in leaf_of:  # the classifier's own short names ("tabby cat")
            names.append(class_names[leaf_of[w]])
        else:
            lemma = str(nodes[w]["name"])
            names.append(PLAIN.get(lemma, lemma))
    sayable = np.array(
        [bits[i] >= MIN_BITS and str(nodes[w]["name"]) not in UNSAYABLE for i, w in enumerate(ids)]
    )
    return Hierarchy(tuple(names), under, bits, tuple(ancestors), sayable)


def hedged_tags(
    probs: np.ndarray, *, limit: int, min_probability: float, hierarchy: Hierarchy | None = None
) -> list[str]:
    """Up to ``limit`` tags for one row of class probabilities, best first: each the most
    specific sayable node whose probability (the sum over its classes) is at least
    ``min_probability``, never one above or below a tag already chosen, and never one that
    leans on belief an earlier tag already spent."""
    h = hierarchy or load_hierarchy()
    remaining = np.asarray(probs, np.float32).copy()
    chosen: list[int] = []
    names: list[str] = []
    while len(names) < limit:
        node_p = h.under @ remaining
        ok = h.sayable & (node_p >= min_probability)
        for c in chosen:
            ok[c] = False
            ok[list(h.ancestors[c])] = False
        if not ok.any():
            break
        # Most specific first; between equally specific nodes, the likelier.
        candidates = np.flatnonzero(ok)
        best = int(candidates[np.lexsort((-node_p[candidates], -h.bits[candidates]))[0]])
        chosen.append(best)
        if h.names[best] not in names:
            names.append(h.names[best])
        remaining = remaining * (1.0 - h.under[best])  # its classes' belief is spent
    return names
