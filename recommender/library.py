"""Every ready video as the recommender reads it: titles, paths, durations, index times, and (embedded default) its video-level vector, read from the catalog's segments once per process and kept fresh by revision."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np

from core.arrays import unpack_f32
from core.catalog import ReadySignature, ReadyVideo, ready_signature, ready_videos, segment_vectors
from core.db import session_scope
from core.settings import Settings
from core.vectors.sync import mean_video_vector
from recommender.content import normalize_rows

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

log = logging.getLogger(__name__)
_CHUNK = 500  # videos per segment query: bounded IN lists on both backends


average_segments = mean_video_vector  # one definition: the served video index averages alike


@dataclass(frozen=True)
class Snapshot:
    """The library as of one catalog state. Row i of `matrix` is video `ids[i]`'s vector, unit
    length; a library made without vectors (served mode: they live in Qdrant) has a matrix of
    no columns. Never mutated: a refresh makes a new one."""

    version: int  # bumped at every refresh, so caches built on rows know to rebuild
    ids: list[str]
    index: dict[str, int]
    titles: list[str]
    paths: list[str]
    durations: dict[str, float | None]
    indexed_at: np.ndarray  # (videos,) seconds since the epoch
    matrix: np.ndarray  # (videos, dim) float32; (videos, 0) without vectors


def _empty(version: int) -> Snapshot:
    return Snapshot(version, [], {}, [], [], {}, np.zeros(0), np.zeros((0, 0), np.float32))


def _epoch(ts: datetime | None) -> float:
    return 0.0 if ts is None else ts.timestamp()


class VideoLibrary:
    """Per process: checks the catalog's ready signature (core.catalog.ready_signature: ready
    videos, sum of revisions, newest index time) and re-reads only videos whose revision moved,
    so a new video or a swap of embedding spaces shows up within `check_seconds`.

    The signature reads every ready video's row (16 ms at 10k videos on SQLite, a third of the
    latency budget), so it is checked at most once per `check_seconds`; 0 checks on every call.

    ``vectors=False`` (served mode) reads the videos' rows only, never their segments: the
    vectors are Qdrant's (core.vectors.open_video_index)."""

    def __init__(
        self, settings: Settings, *, check_seconds: float = 1.0, vectors: bool = True
    ) -> None:
        self.settings = settings
        self.check_seconds = check_seconds
        self.with_vectors = vectors
        self._checked_at = -float("inf")  # time.monotonic() of the last check
        self._vectors: dict[str, tuple[int, np.ndarray]] = {}  # id -> (revision, mean vector)
        self._snapshot = _empty(0)
        self._signature: ReadySignature | None = None
        self._lock = threading.Lock()

    def snapshot(self) -> Snapshot:
        if time.monotonic() - self._checked_at < self.check_seconds:
            return self._snapshot
        with session_scope(self.settings) as session:
            signature = ready_signature(session=session)
            if signature == self._signature:
                self._checked_at = time.monotonic()
                return self._snapshot
            with self._lock:
                if signature != self._signature:
                    self._snapshot = self._refresh(session)
                    self._signature = signature
                self._checked_at = time.monotonic()
            return self._snapshot

    def _refresh(self, session: Session) -> Snapshot:
        rows = ready_videos(session=session)
        version = self._snapshot.version + 1
        if not self.with_vectors:
            return _snapshot(version, rows, np.zeros((len(rows), 0), np.float32))
        stale = [r.id for r in rows if self._vectors.get(r.id, (None,))[0] != r.revision]
        revisions = {r.id: r.revision for r in rows}
        for start in range(0, len(stale), _CHUNK):
            chunk = stale[start : start + _CHUNK]
            by_video: dict[str, tuple[list[np.ndarray], list[float]]] = {v: ([], []) for v in chunk}
            for video_id, seg_start, seg_end, blob in segment_vectors(
                session=session, video_ids=chunk
            ):
                vecs, secs = by_video[video_id]
                vecs.append(unpack_f32(blob))
                secs.append(seg_end - seg_start)
            for video_id, (vecs, secs) in by_video.items():
                self._vectors.pop(video_id, None)
                if not vecs or len({v.shape for v in vecs}) != 1:
                    continue
                mean = mean_video_vector(np.stack(vecs), np.array(secs))
                if mean is not None:
                    self._vectors[video_id] = (revisions[video_id], mean)
        ready = set(revisions)
        for gone in [v for v in self._vectors if v not in ready]:
            del self._vectors[gone]
        # Every ready video is in one embedding space; a stray dimension (a half-finished
        # migration, a hand-edited row) is left out rather than breaking the matrix.
        dims = Counter(vec.shape[0] for _, vec in self._vectors.values())
        dim = dims.most_common(1)[0][0] if dims else 0
        kept = [r for r in rows if r.id in self._vectors and self._vectors[r.id][1].shape[0] == dim]
        if len(kept) < len(self._vectors):
            log.warning(
                "recommender: %d videos left out: vectors of another size",
                len(self._vectors) - len(kept),
            )
        if not kept:
            return _empty(version)
        return _snapshot(
            version, kept, normalize_rows(np.stack([self._vectors[r.id][1] for r in kept]))
        )


def _snapshot(version: int, rows: Sequence[ReadyVideo], matrix: np.ndarray) -> Snapshot:
    """A snapshot of these video rows (in this order), row i of `matrix` being rows[i]'s."""
    if not rows:
        return _empty(version)
    ids = [r.id for r in rows]
    return Snapshot(
        version=version,
        ids=ids,
        index={v: i for i, v in enumerate(ids)},
        titles=[r.title for r in rows],
        paths=[r.source_path for r in rows],
        durations={r.id: r.duration for r in rows},
        indexed_at=np.array([_epoch(r.indexed_at or r.created_at) for r in rows]),
        matrix=matrix,
    )
