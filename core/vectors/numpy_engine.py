"""The embedded default's engine: segment points in numpy matrices and term postings, in this
process, synced from the catalog.

qdrant-client's local mode answers the same calls, but it evaluates payload filters and sparse
vectors point by point in Python: at 10k segments a hybrid query took 165 ms there against 12 ms
here (bench/search.py). Scores match Qdrant's: cosine for dense vectors, and for the lexical
vector the dot product with Qdrant's IDF, ln(1 + (N - df + 0.5) / (df + 0.5)). The contract
tests (tests/core/test_vector_store_contract.py) run every case on both engines.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.lexical import SparseVector
from core.vectors.base_index import BaseIndex
from core.vectors.store import (
    DENSE,
    LEXICAL,
    Hit,
    SearchFilter,
    SegmentPoint,
    check_dims,
    normal_folder,
    payload_revision,
)

Predicate = Callable[[dict[str, Any]], bool]

DENSE_NAMES = DENSE
# Boolean payload fields kept as arrays too, so the common filters cost a numpy AND, not a loop.
FLAG_FIELDS = ("has_text", "video_has_speech")


@dataclass
class IndexArrays:
    """A whole index as arrays: what a snapshot on disk holds."""

    dims: dict[str, int]
    ids: list[str]
    matrices: dict[str, np.ndarray]  # name -> (points, dim) unit vectors
    payloads: list[dict[str, Any]]
    offsets: np.ndarray  # (points + 1,) int64: point i's terms are terms[offsets[i]:offsets[i+1]]
    terms: np.ndarray  # int64 term ids
    weights: np.ndarray  # float32 term weights


@dataclass
class _Point:
    row: int
    payload: dict[str, Any]
    lexical: dict[int, float]


class MemoryIndex:
    """Dense vectors in growable matrices (rows of deleted points are reused), postings for terms."""

    def __init__(self) -> None:
        self.dims: dict[str, int] | None = None
        self._points: dict[str, _Point] = {}
        self._ids: list[str | None] = []  # row -> point id (None: free row)
        self._free: list[int] = []
        self._matrices: dict[str, np.ndarray] = {}
        self._postings: dict[int, dict[int, float]] = {}  # term -> {row: weight}
        self._live = np.zeros(0, bool)
        self._flags: dict[str, np.ndarray] = {name: np.zeros(0, bool) for name in FLAG_FIELDS}
        self._lock = threading.RLock()

    # --- shape ---------------------------------------------------------------------------------
    def create(self, dims: dict[str, int]) -> None:
        """An empty index of these sizes (whatever was in it goes)."""
        with self._lock:
            self._reset()
            self.dims = dict(dims)
            self._matrices = {name: np.zeros((0, d), np.float32) for name, d in dims.items()}

    def ensure(self, collection: str, video_dim: int, text_dim: int) -> None:
        """Create the index if it has no shape yet, as one step: a check made outside the lock
        and a create after it let a second writer's points outlive their matrices (a rebuild
        racing a search that mends a lost index once hit an IndexError that way:
        bench/faults.py)."""
        with self._lock:
            if check_dims(collection, self.dims, video_dim, text_dim):
                self.create({"video": video_dim, "text": text_dim})

    def drop(self) -> None:
        with self._lock:
            self._reset()

    def _reset(self) -> None:
        """Empty the index, keeping its lock: a reader waiting on the lock must find the new
        state behind it, never take a fresh lock that nobody holds while the index is refilled
        (a search during a rebuild once saw half-loaded arrays that way: bench/faults.py)."""
        lock = self._lock
        self.__init__()  # type: ignore[misc]
        self._lock = lock

    def count(self) -> int:
        return len(self._points)

    def _row_for(self, pid: str) -> int:
        existing = self._points.get(pid)
        if existing is not None:
            self._unpost(existing)
            return existing.row
        if self._free:
            return self._free.pop()
        row = len(self._ids)
        self._ids.append(None)
        capacity = next(iter(self._matrices.values())).shape[0] if self._matrices else 0
        if row >= capacity:
            grow = max(1024, capacity)
            for name, mat in self._matrices.items():
                self._matrices[name] = np.vstack([mat, np.zeros((grow, mat.shape[1]), np.float32)])
            self._live = np.concatenate([self._live, np.zeros(grow, bool)])
            for name, flags in self._flags.items():
                self._flags[name] = np.concatenate([flags, np.zeros(grow, bool)])
        return row

    def _unpost(self, point: _Point) -> None:
        for term in point.lexical:
            postings = self._postings.get(term)
            if postings is not None:
                postings.pop(point.row, None)
                if not postings:
                    del self._postings[term]

    # --- writes ----------------------------------------------------------------------------------
    def upsert_batch(
        self,
        collection: str,
        batch: Sequence[tuple[str, dict[str, np.ndarray], dict[int, float], dict[str, Any]]],
    ) -> None:
        """Points of one write, shaped and stored under one hold of the lock, so a drop cannot
        land between the shape check and the rows."""
        if not batch:
            return
        with self._lock:
            first = batch[0][1]
            self.ensure(collection, len(first["video"]), len(first["text"]))
            for pid, vectors, lexical, payload in batch:
                self.upsert(pid, vectors, lexical, payload)

    def upsert(
        self,
        pid: str,
        vectors: dict[str, np.ndarray],
        lexical: dict[int, float],
        payload: dict[str, Any],
    ) -> None:
        with self._lock:
            row = self._row_for(pid)
            for name, vec in vectors.items():
                v = np.asarray(vec, np.float32)
                norm = float(np.linalg.norm(v))
                self._matrices[name][row] = v / norm if norm > 0 else v
            self._ids[row] = pid
            self._live[row] = True
            for name, flags in self._flags.items():
                flags[row] = bool(payload.get(name))
            self._points[pid] = _Point(row, dict(payload), dict(lexical))
            for term, weight in lexical.items():
                self._postings.setdefault(term, {})[row] = weight

    def delete(self, ids: Iterable[str]) -> None:
        with self._lock:
            for pid in ids:
                point = self._points.pop(pid, None)
                if point is None:
                    continue
                self._unpost(point)
                for mat in self._matrices.values():
                    mat[point.row] = 0.0
                self._live[point.row] = False
                self._ids[point.row] = None
                self._free.append(point.row)

    # --- whole-index copies (core/vectors/snapshot.py) ---------------------------------------------
    def export_arrays(self) -> IndexArrays:
        """Every live point, compacted: ids, matrices, payloads and sparse rows in one order."""
        with self._lock:
            rows = [p.row for p in self._points.values()]
            ids = list(self._points)
            matrices = {name: mat[rows].copy() for name, mat in self._matrices.items()}
            lexical = [self._points[pid].lexical for pid in ids]
            offsets = np.zeros(len(ids) + 1, np.int64)
            offsets[1:] = np.cumsum([len(x) for x in lexical])
            terms = np.fromiter((t for x in lexical for t in x), np.int64, count=int(offsets[-1]))
            weights = np.fromiter(
                (w for x in lexical for w in x.values()), np.float32, count=int(offsets[-1])
            )
            payloads = [self._points[pid].payload for pid in ids]
            return IndexArrays(
                dict(self.dims or {}), ids, matrices, payloads, offsets, terms, weights
            )

    def load_arrays(self, arrays: IndexArrays) -> None:
        """Replace the whole index by these points (their vectors are unit vectors already)."""
        with self._lock:
            self._reset()
            n = len(arrays.ids)
            self.dims = dict(arrays.dims)
            # Copies in memory: later upserts write into them (the files stay as they were).
            self._matrices = {k: np.array(v, np.float32) for k, v in arrays.matrices.items()}
            self._ids = list(arrays.ids)
            self._live = np.ones(n, bool)
            for name in FLAG_FIELDS:
                self._flags[name] = np.fromiter(
                    (bool(p.get(name)) for p in arrays.payloads), bool, count=n
                )
            terms, weights, offsets = arrays.terms.tolist(), arrays.weights.tolist(), arrays.offsets
            for row, (pid, payload) in enumerate(zip(arrays.ids, arrays.payloads, strict=True)):
                lo, hi = int(offsets[row]), int(offsets[row + 1])
                lexical = dict(zip(terms[lo:hi], weights[lo:hi], strict=True))
                self._points[pid] = _Point(row, payload, lexical)
                for term, weight in lexical.items():
                    self._postings.setdefault(term, {})[row] = weight

    # --- reads -----------------------------------------------------------------------------------
    # Reads take the lock too: a point and its row must come from the same state of the index.
    def payload(self, pid: str) -> dict[str, Any] | None:
        with self._lock:
            point = self._points.get(pid)
            return point.payload if point else None

    def items(self) -> Iterable[tuple[str, dict[str, Any]]]:
        with self._lock:
            pairs = [(pid, p.payload) for pid, p in self._points.items()]
        return iter(pairs)

    def vector(self, pid: str, name: str) -> np.ndarray | None:
        with self._lock:
            point = self._points.get(pid)
            return None if point is None else self._matrices[name][point.row].copy()

    def lexical_of(self, pid: str) -> dict[int, float]:
        with self._lock:
            point = self._points.get(pid)
            return dict(point.lexical) if point else {}

    def term_count(self, term: int) -> int:
        with self._lock:
            return len(self._postings.get(term, ()))

    def _allowed(self, n: int, keep: Predicate | None, flags: dict[str, bool] | None) -> np.ndarray:
        """A mask over the first n rows: live points with these flags that pass the predicate."""
        mask = self._live[:n].copy()
        for name, wanted in (flags or {}).items():
            mask &= self._flags[name][:n] == wanted
        if keep is not None:
            for row in np.flatnonzero(mask):
                if not keep(self._points[self._ids[row]].payload):  # type: ignore[index]
                    mask[row] = False
        return mask

    def search_dense(
        self,
        name: str,
        query: np.ndarray,
        limit: int,
        keep: Predicate | None = None,
        flags: dict[str, bool] | None = None,
    ) -> list[tuple[str, float, dict[str, Any]]]:
        """(point id, score, payload), best first: the payload read under the same hold of the
        lock as the score, so a drop or rebuild meanwhile cannot leave a hit without one."""
        with self._lock:
            if not self._points:
                return []
            q = np.asarray(query, np.float32)
            norm = float(np.linalg.norm(q))
            q = q / norm if norm > 0 else q
            n = len(self._ids)
            scores = self._matrices[name][:n] @ q  # (rows,)
            scores = np.where(self._allowed(n, keep, flags), scores, -np.inf)
            return self._top(scores, limit)

    def search_lexical(
        self,
        query: dict[int, float],
        limit: int,
        keep: Predicate | None = None,
        *,
        others: tuple[int, dict[int, int]] = (0, {}),
    ) -> list[tuple[str, float, dict[str, Any]]]:
        """``others``: the points and each term's count in the rest of the index (a large
        index's base), so that IDF is the whole index's, as Qdrant's is."""
        with self._lock:
            total = len(self._points) + others[0]
            acc: dict[int, float] = {}
            for term, qweight in query.items():
                postings = self._postings.get(term)
                if not postings:
                    continue
                idf = idf_of(total, len(postings) + others[1].get(term, 0))
                for row, weight in postings.items():
                    acc[row] = acc.get(row, 0.0) + idf * qweight * weight
            if not acc:
                return []
            rows = np.fromiter(acc.keys(), np.int64, count=len(acc))
            scores = np.fromiter(acc.values(), np.float64, count=len(acc))
            if keep is not None:
                ok = np.fromiter(
                    (keep(self._points[self._ids[r]].payload) for r in rows), bool, count=len(rows)
                )  # type: ignore[index]
                rows, scores = rows[ok], scores[ok]
            order = np.argsort(-scores, kind="stable")[:limit]
            return [self._hit(int(rows[i]), float(scores[i])) for i in order]

    def _top(self, scores: np.ndarray, limit: int) -> list[tuple[str, float, dict[str, Any]]]:
        finite = int(np.isfinite(scores).sum())
        k = min(limit, finite)
        if k <= 0:
            return []
        idx = np.argpartition(-scores, k - 1)[:k]
        idx = idx[np.argsort(-scores[idx], kind="stable")]
        return [self._hit(int(i), float(scores[i])) for i in idx]

    def _hit(self, row: int, score: float) -> tuple[str, float, dict[str, Any]]:
        pid = self._ids[row]
        assert pid is not None  # a live row (the masks and postings hold live rows only)
        return pid, score, self._points[pid].payload


def idf_of(total: int, df: int) -> float:
    """Qdrant's IDF for a term in ``df`` of ``total`` points."""
    return math.log(1.0 + (total - df + 0.5) / (df + 0.5))


def payload_predicate(flt: SearchFilter | None) -> Predicate | None:
    """The filter's conditions that flag arrays do not cover, as a predicate over payloads."""
    if flt is None:
        return None
    checks: list[Predicate] = []
    lo, hi = flt.min_duration, flt.max_duration
    if lo is not None:
        checks.append(lambda p: (p.get("duration") or 0) >= lo)
    if hi is not None:
        checks.append(lambda p: (p.get("duration") or 0) <= hi)
    after, before = flt.ingested_after, flt.ingested_before
    if after is not None:
        checks.append(lambda p: (p.get("ingested_at") or 0) >= after)
    if before is not None:
        checks.append(lambda p: (p.get("ingested_at") or 0) <= before)
    if flt.folder:
        folder = normal_folder(flt.folder)
        checks.append(lambda p: folder in (p.get("folders") or ()))
    if flt.video_ids is not None:
        wanted = set(flt.video_ids)
        checks.append(lambda p: p.get("video_id") in wanted)
    if flt.exclude_video_ids:
        unwanted = set(flt.exclude_video_ids)
        checks.append(lambda p: p.get("video_id") not in unwanted)
    if not checks:
        return None
    return lambda p: all(check(p) for check in checks)


def _with_speech_flag(wanted: bool, rest: Predicate | None) -> Predicate:
    def keep(p: dict[str, Any]) -> bool:
        return bool(p.get("video_has_speech")) == wanted and (rest is None or rest(p))

    return keep


class NumpyStore:
    """``VectorStore`` on a ``MemoryIndex``: translates filters into flag masks and a predicate.

    A large index also has a ``base`` (core/vectors/base_index.py): the points of the snapshot
    it started from, memory-mapped and searched through graphs; the ``MemoryIndex`` then holds
    only what was written since, and a base point written again or deleted is masked there."""

    engine = "numpy"

    def __init__(self, collection: str = "segments") -> None:
        self.collection = collection
        self.mem = MemoryIndex()
        self.base: BaseIndex | None = None
        self.writes = 0  # points written or deleted since the store was made (snapshots read it)

    def attach_base(self, base: BaseIndex | None) -> None:
        """Answer from ``base`` and the in-memory points (which must not repeat its points)."""
        with self.mem._lock:
            self.base = base

    def prefetch(self) -> int:
        """Bring a large index's base into memory before serving (see BaseIndex.prefetch)."""
        return self.base.prefetch() if self.base is not None else 0

    def dims(self) -> dict[str, int] | None:
        return self.mem.dims or (self.base.dims if self.base is not None else None)

    def ensure_collection(self, video_dim: int, text_dim: int) -> None:
        with self.mem._lock:
            if self.base is not None:
                check_dims(self.collection, self.base.dims, video_dim, text_dim)
            self.mem.ensure(self.collection, video_dim, text_dim)

    def drop(self) -> None:
        with self.mem._lock:
            self.base = None
            self.mem.drop()
            self.writes += 1

    def count(self) -> int:
        with self.mem._lock:
            return self.mem.count() + (self.base.live_count() if self.base is not None else 0)

    def _retire_from_base(self, ids: Iterable[str]) -> None:
        """Mask the base's copies of these points (they are written anew, or deleted)."""
        if self.base is None:
            return
        for pid in ids:
            row = self.base.row_of(pid)
            if row is not None:
                self.base.dead[row] = True

    def upsert(self, points: Sequence[SegmentPoint]) -> None:
        with self.mem._lock:
            if self.base is not None and points:
                check_dims(
                    self.collection,
                    self.base.dims,
                    len(points[0].video_vector),
                    len(points[0].text_vector),
                )
            self._retire_from_base(p.id for p in points)
            self.mem.upsert_batch(
                self.collection,
                [
                    (
                        p.id,
                        {"video": p.video_vector, "text": p.text_vector},
                        dict(zip(p.lexical.indices, p.lexical.values, strict=True)),
                        p.payload,
                    )
                    for p in points
                ],
            )
            self.writes += len(points)

    def delete(self, ids: Iterable[str]) -> None:
        ids = list(ids)
        with self.mem._lock:
            self._retire_from_base(ids)
            self.mem.delete(ids)
            self.writes += len(ids)

    def revisions(self) -> dict[str, int]:
        with self.mem._lock:
            out = self.base.revisions() if self.base is not None else {}
            out.update((pid, payload_revision(payload)) for pid, payload in self.mem.items())
            return out

    def video_point_ids(self, video_id: str) -> list[str]:
        with self.mem._lock:
            out = [pid for pid, p in self.mem.items() if p.get("video_id") == video_id]
            if self.base is not None:
                out += [self.base.pid(int(r)) for r in self.base.video_rows(video_id)]
            return out

    def points(self) -> dict[str, dict[str, Any]]:
        mem = self.mem
        out = {}
        with mem._lock:
            if self.base is not None:
                base = self.base
                for row in base.live_rows().tolist():
                    dense = {name: base.vector(row, name).tolist() for name in DENSE}
                    out[base.pid(row)] = {
                        "payload": base.payload(row),
                        "vector": dense | {LEXICAL: base.lexical(row)},
                    }
            for pid, payload in mem.items():
                dense = {}
                for name in DENSE:
                    vec = mem.vector(pid, name)
                    dense[name] = None if vec is None else vec.tolist()
                out[pid] = {"payload": payload, "vector": dense | {LEXICAL: mem.lexical_of(pid)}}
        return out

    def search_dense(
        self, using: str, vector: np.ndarray, limit: int, flt: SearchFilter | None = None
    ) -> list[Hit]:
        if self.dims() is None:
            return []
        flags = {"has_text": True} if using == "text" else {}
        if flt is not None and flt.has_speech is not None:
            flags["video_has_speech"] = flt.has_speech  # a flag array: no per-point loop
        with self.mem._lock:
            found = self.mem.search_dense(using, vector, limit, payload_predicate(flt), flags)
            hits = [Hit(pid, score, payload) for pid, score, payload in found]
            base = self.base
            if base is None:
                return hits
            allowed = base.allowed(flt, has_text=using == "text")
            for row, score in base.search_dense(using, vector, limit, allowed):
                hits.append(Hit(base.pid(row), score, base.payload(row)))
        hits.sort(key=lambda h: -h.score)
        return hits[:limit]

    def search_lexical(
        self, query: SparseVector, limit: int, flt: SearchFilter | None = None
    ) -> list[Hit]:
        if query.is_empty() or self.dims() is None:
            return []
        weights = dict(zip(query.indices, query.values, strict=True))
        keep = payload_predicate(flt)
        if flt is not None and flt.has_speech is not None:
            keep = _with_speech_flag(flt.has_speech, keep)
        with self.mem._lock:
            base = self.base
            if base is None:
                found = self.mem.search_lexical(weights, limit, keep)
                return [Hit(pid, score, payload) for pid, score, payload in found]
            postings = {term: base.term_postings(term) for term in weights}
            counts = {term: len(rows) for term, (rows, _) in postings.items()}
            found = self.mem.search_lexical(
                weights, limit, keep, others=(base.live_count(), counts)
            )
            hits = [Hit(pid, score, payload) for pid, score, payload in found]
            total = self.mem.count() + base.live_count()
            rows_parts, score_parts = [], []
            for term, (rows, w) in postings.items():
                if len(rows):
                    df = len(rows) + self.mem.term_count(term)
                    rows_parts.append(rows)
                    score_parts.append(idf_of(total, df) * weights[term] * w.astype(np.float64))
            if rows_parts:
                rows = np.concatenate(rows_parts)
                if len(rows) * 16 > base.n:  # a common word: summing into every row is cheaper
                    summed = np.bincount(
                        rows, weights=np.concatenate(score_parts), minlength=base.n
                    )
                    uniq = np.flatnonzero(summed)
                    scores = summed[uniq]
                else:
                    uniq, inverse = np.unique(rows, return_inverse=True)
                    scores = np.bincount(inverse, weights=np.concatenate(score_parts))
                allowed = base.allowed(flt)
                if allowed is not None:
                    ok = allowed[uniq]
                    uniq, scores = uniq[ok], scores[ok]
                if len(scores) > limit:  # the best ``limit`` first, then only those sorted
                    best = np.argpartition(-scores, limit - 1)[:limit]
                    uniq, scores = uniq[best], scores[best]
                order = np.argsort(-scores, kind="stable")[:limit]
                hits += [
                    Hit(base.pid(int(uniq[i])), float(scores[i]), base.payload(int(uniq[i])))
                    for i in order
                ]
        hits.sort(key=lambda h: -h.score)
        return hits[:limit]

    def vectors(self, ids: Sequence[str], using: str) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        with self.mem._lock:
            for pid in ids:
                vec = self.mem.vector(pid, using)
                if vec is None and self.base is not None:
                    row = self.base.row_of(pid)
                    vec = None if row is None else self.base.vector(row, using)
                if vec is not None:
                    out[pid] = vec
        return out
