"""The segment index: the ``VectorStore`` contract (store.py), one module per engine
(numpy_engine.py for the embedded default, qdrant_engine.py for a Qdrant server), and the sync
from the catalog written once against the contract (sync.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.settings import Settings
from core.vectors.store import (
    DENSE,
    LEXICAL,
    Hit,
    SearchFilter,
    SegmentPoint,
    SyncReport,
    VectorStore,
    point_id,
)
from core.vectors.sync import (
    index_diff,
    rebuild_from_catalog,
    segment_point,
    sync_from_catalog,
    sync_video,
)

if TYPE_CHECKING:
    from qdrant_client import QdrantClient

    from core.vectors.qdrant_engine import QdrantStore, QdrantVideoIndex

__all__ = [
    "DENSE",
    "LEXICAL",
    "Hit",
    "SearchFilter",
    "SegmentPoint",
    "SyncReport",
    "VectorStore",
    "index_diff",
    "open_vector_store",
    "open_video_index",
    "point_id",
    "rebuild_from_catalog",
    "segment_point",
    "sync_from_catalog",
    "sync_video",
]


def open_vector_store(settings: Settings, *, client: QdrantClient | None = None) -> VectorStore:
    """The store these settings name: a Qdrant server (``qdrant_url``) or any client handed in,
    else the embedded numpy engine (one per process, synced from the catalog: qdrant's local
    ``path=`` mode locks its folder to one process, and the CLI, API, UI and workers are
    separate processes)."""
    if client is not None or settings.qdrant_url:
        return _qdrant_store(settings, client)
    from core.vectors.numpy_engine import NumpyStore

    return NumpyStore(settings.qdrant_collection)


def open_video_index(
    settings: Settings, *, client: QdrantClient | None = None
) -> QdrantVideoIndex | None:
    """The video-level index beside the segments (one point per video, kept in step by the
    sync): Qdrant's, in served mode; None in the embedded default, whose recommender holds the
    video vectors in its own process."""
    if client is None and not settings.qdrant_url:
        return None
    return _qdrant_store(settings, client).videos


def _qdrant_store(settings: Settings, client: QdrantClient | None) -> QdrantStore:
    from core.vectors.qdrant_engine import CollectionLayout, QdrantStore  # qdrant_client: here only

    layout = CollectionLayout(
        shards=settings.qdrant_shards,
        replication=settings.qdrant_replication,
        write_consistency=settings.qdrant_write_consistency,
    )
    if client is not None:
        return QdrantStore(settings.qdrant_collection, client=client, layout=layout)
    return QdrantStore(settings.qdrant_collection, url=settings.qdrant_url, layout=layout)
