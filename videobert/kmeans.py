"""The visual tokenizer: hierarchical k-means over clip features, in numpy (VIDEOBERT.md item 2).

``fit_codebook`` splits the clip features into k clusters, each of those into k again, down to
``depth`` levels; the leaves are the visual words (k ** depth of them on enough data).
``Codebook.assign`` turns features into word ids by descending the tree, nearest child first.
``imagenet_codebook`` is the data-free default: one word per ImageNet class, so a fresh install
has visual words whose meaning (the class name) is known before any library is indexed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

CODEBOOK_FORMAT = 1
_CHUNK = 4096  # rows per distance block: bounds memory at chunk x centroids floats


def _sq_distances(x: np.ndarray, c: np.ndarray) -> np.ndarray:
    """(n, d) x (m, d) -> (n, m) squared Euclidean distances, clipped at 0 against round-off."""
    d = (x * x).sum(1)[:, None] - 2.0 * (x @ c.T) + (c * c).sum(1)[None, :]
    return np.maximum(d, 0.0)


def _nearest(x: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of and squared distance to the nearest row of c, for every row of x (chunked)."""
    idx = np.empty(len(x), np.int64)
    dist = np.empty(len(x), np.float32)
    for s in range(0, len(x), _CHUNK):
        d = _sq_distances(x[s : s + _CHUNK], c)
        idx[s : s + _CHUNK] = d.argmin(1)
        dist[s : s + _CHUNK] = d[np.arange(len(d)), idx[s : s + _CHUNK]]
    return idx, dist


def kmeans(
    x: np.ndarray, k: int, rng: np.random.Generator, iters: int = 50
) -> tuple[np.ndarray, np.ndarray]:
    """Flat k-means (k-means++ seeding, Lloyd steps) -> (labels (n,), centroids (m, d)).

    m <= k: seeding stops when every point already coincides with a centre (fewer distinct
    points than k), and a cluster that empties is re-seeded with the worst-fitting point, or
    dropped when every point fits exactly. Labels index the returned centroids.
    """
    n = len(x)

    def to(centre: np.ndarray) -> np.ndarray:
        # Direct differences, not the |x|^2 - 2xc + |c|^2 expansion: a duplicate of the centre
        # must come out exactly 0, or round-off would seed duplicates as new clusters.
        return np.square(x - centre).sum(1, dtype=np.float64)

    centres = [x[int(rng.integers(n))]]
    best = to(centres[0])
    while len(centres) < k:
        total = float(best.sum())
        if total <= 0.0:
            break  # every point sits on a centre: no more distinct points to seed with
        pick = int(rng.choice(n, p=best / total))
        centres.append(x[pick])
        best = np.minimum(best, to(x[pick]))
    c = np.stack(centres).astype(np.float32)
    labels = np.full(n, -1, np.int64)
    for _ in range(iters):
        new_labels, dist = _nearest(x, c)
        counts = np.bincount(new_labels, minlength=len(c))
        for empty in np.flatnonzero(counts == 0):
            worst = int(dist.argmax())
            if not np.any(x[worst] != c[new_labels[worst]]):
                break  # the worst point sits exactly on its centre: nothing left to split
            new_labels[worst], dist[worst] = empty, 0.0
            c[empty] = x[worst]
        if np.array_equal(new_labels, labels):
            break
        labels = new_labels
        one_hot = np.zeros((len(c), n), np.float32)
        one_hot[labels, np.arange(n)] = 1.0
        sums = one_hot @ x  # (clusters, d): np.add.at is far slower for wide rows
        counts = np.bincount(labels, minlength=len(c))
        keep = counts > 0
        c = (sums[keep] / counts[keep, None]).astype(np.float32)
        labels = (np.cumsum(keep) - 1)[labels]  # renumber after dropping empty clusters
    return labels, c


@dataclass(frozen=True)
class Codebook:
    """A k-means tree. Node 0 is the root; a node's children are
    ``child_index[child_start[i]:child_start[i + 1]]``; leaves carry word ids (DFS order, so
    the words under one parent are consecutive) and internal nodes carry -1."""

    k: int
    depth: int
    node_centroids: np.ndarray  # (nodes, d) float32, mean of the points under each node
    child_start: np.ndarray  # (nodes + 1,) int64
    child_index: np.ndarray  # (nodes - 1,) int64
    node_word: np.ndarray  # (nodes,) int64
    names: tuple[str, ...] | None = None  # one per word, when words have known meanings
    seed: int = 0

    @property
    def num_words(self) -> int:
        return int((self.node_word >= 0).sum())

    @property
    def dim(self) -> int:
        return int(self.node_centroids.shape[1])

    @property
    def centroids(self) -> np.ndarray:
        """(num_words, d): the leaf centroids in word-id order."""
        leaves = np.flatnonzero(self.node_word >= 0)
        order = np.argsort(self.node_word[leaves])
        return self.node_centroids[leaves[order]]

    def assign(self, features: np.ndarray, *, exact: bool = False) -> np.ndarray:
        """(n, d) features -> (n,) word ids.

        By default descend the tree (k distances per level instead of one per word). Greedy
        descent equals the nearest leaf when clusters are well separated and approximates it
        otherwise; ``exact=True`` compares against every leaf.
        """
        x = np.asarray(features, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(f"features must be (n, {self.dim}), got shape {x.shape}")
        if exact:
            return np.asarray(_nearest(x, self.centroids)[0], dtype=np.int64)
        node = np.zeros(len(x), np.int64)
        for _ in range(self.depth):
            for current in np.unique(node):
                kids = self.child_index[self.child_start[current] : self.child_start[current + 1]]
                if len(kids) == 0:
                    continue  # a leaf above full depth (scarce data): stay
                rows = np.flatnonzero(node == current)
                node[rows] = kids[_nearest(x[rows], self.node_centroids[kids])[0]]
        return self.node_word[node]

    def save(self, path: str | Path) -> None:
        arrays: dict[str, Any] = {
            "format": np.array(CODEBOOK_FORMAT),
            "k": np.array(self.k),
            "depth": np.array(self.depth),
            "seed": np.array(self.seed),
            "node_centroids": self.node_centroids,
            "child_start": self.child_start,
            "child_index": self.child_index,
            "node_word": self.node_word,
        }
        if self.names is not None:
            arrays["names"] = np.array(self.names, dtype=str)
        with open(path, "wb") as f:  # a file object: np.savez would append ".npz" to a path
            np.savez(f, **arrays)

    @classmethod
    def load(cls, path: str | Path) -> Codebook:
        with np.load(path, allow_pickle=False) as data:
            version = int(data["format"])
            if version != CODEBOOK_FORMAT:
                raise ValueError(
                    f"{path} is codebook format {version}; this code reads {CODEBOOK_FORMAT}"
                )
            return cls(
                k=int(data["k"]),
                depth=int(data["depth"]),
                seed=int(data["seed"]),
                node_centroids=data["node_centroids"].astype(np.float32),
                child_start=data["child_start"].astype(np.int64),
                child_index=data["child_index"].astype(np.int64),
                node_word=data["node_word"].astype(np.int64),
                names=tuple(str(n) for n in data["names"]) if "names" in data else None,
            )


def fit_codebook(
    features: np.ndarray, *, k: int, depth: int, seed: int = 0, iters: int = 50
) -> Codebook:
    """Hierarchical k-means: every node at a level above ``depth`` is split into k clusters.

    Scarce data makes fewer words than k ** depth: a node whose points hold fewer than k
    distinct values gets one child per distinct value, and a node with a single distinct value
    is not split at all (a leaf above full depth). Deterministic for a given seed.
    """
    x = np.asarray(features, dtype=np.float32)
    if x.ndim != 2 or len(x) == 0:
        raise ValueError(f"features must be a non-empty (n, d) array, got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError(f"features hold {int((~np.isfinite(x)).sum())} non-finite values")
    if k < 2 or depth < 1:
        raise ValueError(f"k must be at least 2 and depth at least 1, got k={k} depth={depth}")
    rng = np.random.default_rng(seed)
    centroids: list[np.ndarray] = []
    children: list[list[int]] = []
    words: list[int] = []
    next_word = 0

    def build(rows: np.ndarray, level: int) -> int:
        nonlocal next_word
        node = len(centroids)
        centroids.append(x[rows].mean(0))
        children.append([])
        words.append(-1)
        labels, _ = kmeans(x[rows], k, rng, iters) if level < depth else (None, None)
        if labels is None or labels.max() == 0:  # full depth, or nothing left to split
            words[node], next_word = next_word, next_word + 1
            return node
        for cluster in range(int(labels.max()) + 1):
            children[node].append(build(rows[labels == cluster], level + 1))
        return node

    build(np.arange(len(x)), 0)
    return _from_lists(k, depth, centroids, children, words, names=None, seed=seed)


def imagenet_codebook(classifier_weight: np.ndarray, names: Sequence[str]) -> Codebook:
    """The data-free default: word i is ImageNet class i, its centroid the classifier's row i.

    ``classifier_weight`` is EfficientNet-Lite0's ``_fc.weight`` (1000, 1280). Nearest-centroid
    assignment on these rows is not the classifier's argmax (which adds a bias and does not
    subtract the row norms), but it puts clips that excite a class's features near its word.
    """
    w = np.asarray(classifier_weight, dtype=np.float32)
    if w.ndim != 2 or len(w) != len(names):
        raise ValueError(f"{len(names)} class names but classifier weight of shape {w.shape}")
    n = len(w)
    centroids = [w.mean(0)] + list(w)
    children = [list(range(1, n + 1))] + [[] for _ in range(n)]
    words = [-1] + list(range(n))
    return _from_lists(n, 1, centroids, children, words, names=tuple(names), seed=0)


def _from_lists(
    k: int,
    depth: int,
    centroids: list[np.ndarray],
    children: list[list[int]],
    words: list[int],
    *,
    names: tuple[str, ...] | None,
    seed: int,
) -> Codebook:
    counts = np.array([len(c) for c in children], np.int64)
    return Codebook(
        k=k,
        depth=depth,
        node_centroids=np.stack(centroids).astype(np.float32),
        child_start=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
        child_index=np.array([c for kids in children for c in kids], np.int64),
        node_word=np.array(words, np.int64),
        names=names,
        seed=seed,
    )
