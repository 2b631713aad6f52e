"""The approximate nearest-neighbour graph of a large index (HNSW, through usearch): built once
when a large snapshot is written, then memory-mapped by every process that reads it, so a
process neither rebuilds it nor holds its own copy. The only module that imports usearch.

A graph answers cosine over unit vectors with its keys (the base's row numbers). It is never
changed in place: points added later live in the small in-memory part of the index, and points
removed are dropped from the answers by the caller (core/vectors/base_index.py).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

# HNSW's knobs (usearch's names). The search width was first chosen at connectivity 16 on
# libraries of clustered points with real text queries, asking for 100 as search does: at 100k
# (bench/large_index.py's) recall@10 0.968 at 128, 0.978 at 512, 1.0 at 1024 (3.0 / 2.6 / 4.8 ms
# p50); at 1M (bench/cold.py's library, other queries) 0.945 at 1024, 0.970 at 2048, 0.985 at
# 4096 (3.4 / 3.8 / 7.2 ms p50). But at 1M connectivity 16 was not reliable: the same points
# gave recall@10 1.000 on one build of the graph and 0.955 on another (bench/large_index.py).
# Connectivity 32 (hnswlib at 1M: 0.98 already at width 128) makes each step of a search about
# twice as dear, so the width is halved to 2048. Measured at 1M (one quiet run): recall@10
# 1.000, p50 32.5 ms as before, but p95 162.7 ms against 101.8: not yet settled (ARCHITECTURE.md).
CONNECTIVITY = 32
EXPANSION_ADD = 128
EXPANSION_SEARCH = 2048
# Stored as half floats: half the file and the page cache of float32, and cosine ranks barely
# move (scores are recomputed exactly from the base's matrices anyway).
DTYPE = "f16"


def _index_class() -> Any:
    """usearch's Index, loaded after onnxruntime: usearch 2.26 (its numkong kernels) loaded
    first makes a later ``import onnxruntime`` crash the process (SIGSEGV), and the query
    encoder imports onnxruntime after the index is mapped (tests/core/test_large_index.py)."""
    import onnxruntime  # noqa: F401
    from usearch.index import Index

    return Index


def build_graph(vectors: np.ndarray, keys: np.ndarray, path: Path, *, threads: int = 0) -> None:
    """Build the graph of these unit vectors under these keys and save it to ``path``."""
    n, dim = vectors.shape
    index = _index_class()(
        ndim=dim,
        metric="cos",
        dtype=DTYPE,
        connectivity=CONNECTIVITY,
        expansion_add=EXPANSION_ADD,
        expansion_search=EXPANSION_SEARCH,
    )
    if n:
        index.add(np.asarray(keys, np.uint64), np.ascontiguousarray(vectors), threads=threads)
    index.save(str(path))


class Graph:
    """A saved graph, memory-mapped read-only. Searches run side by side without a lock at the
    fixed width; one that asks for more than half the width widens it under a lock, for itself
    (a search running meanwhile only gets the wider, slower, search)."""

    def __init__(self, path: Path) -> None:
        self._index: Any = _index_class().restore(str(path), view=True)
        if self._index is None:
            raise ValueError(f"{path} is not a usearch index")
        self._index.expansion_search = EXPANSION_SEARCH
        self.size = int(self._index.size)
        self._lock = threading.Lock()

    def search(self, query: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
        """(rows, cosine similarities), best first, at most ``count``."""
        count = min(count, self.size)
        if count <= 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        q = np.asarray(query, np.float32)
        # The candidate list must be at least twice the answer: recall falls fast when the
        # width is close to the count asked for.
        if 2 * count <= EXPANSION_SEARCH:
            found = self._index.search(q, count)
        else:
            with self._lock:
                self._index.expansion_search = 2 * count
                try:
                    found = self._index.search(q, count)
                finally:
                    self._index.expansion_search = EXPANSION_SEARCH
        rows = np.asarray(found.keys, np.int64)
        return rows, (1.0 - np.asarray(found.distances, np.float32))
