"""The vector-store contract: what a segment point is, what a query may filter on, and the
``VectorStore`` protocol that every engine implements (core/vectors/numpy_engine.py,
core/vectors/qdrant_engine.py). Callers hold a ``VectorStore`` and never ask which engine it is.

One collection of segment points, each with two named dense vectors (``video``: what the clip
looks like, ``text``: its transcript and captions) and a sparse ``lexical`` vector. Point ids are
uuid5(video id, segment index), so syncing from the catalog is an idempotent upsert.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any, Protocol

import numpy as np

from core.lexical import SparseVector

POINT_NAMESPACE = uuid.UUID("6f1c3a52-8a8e-4f0e-9a57-2f3b0c1d9e41")
DENSE = ("video", "text")
LEXICAL = "lexical"
# Bump when the payload's shape changes: a sync then rewrites every point.
# 5: what is said and the hedged tags, apart from the caption; 6: people and on-screen text.
PAYLOAD_VERSION = 6
STALE = -1  # the revision reported for a point written under an older payload shape


def point_id(video_id: str, index: int) -> str:
    return str(uuid.uuid5(POINT_NAMESPACE, f"{video_id}:{index}"))


def payload_revision(payload: dict[str, Any]) -> int:
    """The video revision a point was written from (STALE for an older payload shape)."""
    current = payload.get("payload_version") == PAYLOAD_VERSION
    return int(payload.get("revision", STALE)) if current else STALE


def folders_of(path: str) -> list[str]:
    """Every ancestor folder of a path: a path-prefix filter becomes an exact keyword match."""
    return [str(p) for p in PurePosixPath(path).parents if str(p) not in ("", ".")]


def normal_folder(folder: str) -> str:
    return str(PurePosixPath(folder))


@dataclass
class SegmentPoint:
    video_id: str
    index: int
    video_vector: np.ndarray
    text_vector: np.ndarray
    lexical: SparseVector
    payload: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return point_id(self.video_id, self.index)


@dataclass(frozen=True)
class Hit:
    id: str
    score: float
    payload: dict[str, Any]


@dataclass(frozen=True)
class SyncReport:
    upserted: int
    deleted: int
    total: int


@dataclass(frozen=True)
class SearchFilter:
    """Restrictions on which segments a query may return (all optional, all must hold).

    Payload fields they read: ``duration``, ``ingested_at`` (epoch seconds),
    ``video_has_speech``, ``folders`` (every ancestor folder of the video's path), ``video_id``.
    Each engine translates a filter itself.
    """

    min_duration: float | None = None
    max_duration: float | None = None
    ingested_after: float | None = None  # epoch seconds
    ingested_before: float | None = None
    has_speech: bool | None = None  # the video has speech anywhere
    folder: str | None = None  # the video lies under this folder
    video_ids: tuple[str, ...] | None = None  # only these videos
    exclude_video_ids: tuple[str, ...] = ()

    def excluding(self, *video_ids: str) -> SearchFilter:
        from dataclasses import replace

        return replace(self, exclude_video_ids=(*self.exclude_video_ids, *video_ids))


class VectorStore(Protocol):
    """The segment index behind one small interface; see the module docstring.

    ``search_dense(using="text", ...)`` leaves out points whose payload has ``has_text`` false:
    the empty caption's vector would match everything alike.
    """

    engine: str  # "numpy" or "qdrant", for messages and diagnostics only

    def dims(self) -> dict[str, int] | None:
        """The dense vectors' sizes by name, or None while there is no collection."""
        ...

    def ensure_collection(self, video_dim: int, text_dim: int) -> None:
        """Create the collection, or check it holds vectors of these sizes (ValueError if not)."""
        ...

    def drop(self) -> None: ...

    def count(self) -> int: ...

    def upsert(self, points: Sequence[SegmentPoint]) -> None: ...

    def delete(self, ids: Iterable[str]) -> None: ...

    def revisions(self) -> dict[str, int]:
        """Every point id with the video revision it was written from (see payload_revision)."""
        ...

    def video_point_ids(self, video_id: str) -> list[str]: ...

    def points(self) -> dict[str, dict[str, Any]]:
        """Every point with payload and vectors (for checks and tests; not for big indexes)."""
        ...

    def search_dense(
        self, using: str, vector: np.ndarray, limit: int, flt: SearchFilter | None = None
    ) -> list[Hit]: ...

    def search_lexical(
        self, query: SparseVector, limit: int, flt: SearchFilter | None = None
    ) -> list[Hit]: ...

    def vectors(self, ids: Sequence[str], using: str) -> dict[str, np.ndarray]:
        """The named dense vector of each given point (missing points are left out)."""
        ...


def check_dims(collection: str, have: dict[str, int] | None, video_dim: int, text_dim: int) -> bool:
    """True when a collection must be created; raises when one of other sizes exists."""
    if have == {"video": video_dim, "text": text_dim}:
        return False
    if have is not None:
        raise ValueError(
            f"collection {collection!r} holds vectors of sizes {have}, not "
            f"video={video_dim} text={text_dim}; rebuild the index from the catalog "
            "(vidsearch reindex --rebuild)"
        )
    return True
