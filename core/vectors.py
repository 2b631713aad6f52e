"""The vector store adapter: the only module that imports qdrant_client.

One collection of segment points, each with two named dense vectors (``video``: what the clip
looks like, ``text``: its transcript and captions) and a sparse ``lexical`` vector. Point ids are
uuid5(video id, segment index), so syncing from the catalog is an idempotent upsert.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath
from typing import Any

import numpy as np
from qdrant_client import QdrantClient
from qdrant_client import models as qm
from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.arrays import unpack_f32
from core.errors import TransientError
from core.lexical import SparseVector, sparse_vector
from core.memindex import MemoryIndex, payload_predicate
from core.models import Segment, Video, VideoStatus
from core.settings import Settings

POINT_NAMESPACE = uuid.UUID("6f1c3a52-8a8e-4f0e-9a57-2f3b0c1d9e41")
DENSE = ("video", "text")
LEXICAL = "lexical"
UPSERT_BATCH = 256
# Bump when the payload's shape changes: a sync then rewrites every point.
PAYLOAD_VERSION = 3


@contextmanager
def _unreachable_is_transient() -> Iterator[None]:
    """A Qdrant server that does not answer is a fault to retry, not a reason to fail a job."""
    try:
        yield
    except (ResponseHandlingException, UnexpectedResponse, OSError) as exc:
        raise TransientError(f"vector index unreachable: {exc}") from exc


def _as_list(vector: np.ndarray | None) -> list[float] | None:
    return None if vector is None else vector.tolist()


def _revision(payload: dict[str, Any]) -> int:
    # A point written under an older payload shape counts as stale (-1 matches no revision).
    current = payload.get("payload_version") == PAYLOAD_VERSION
    return int(payload.get("revision", -1)) if current else -1


def point_id(video_id: str, index: int) -> str:
    return str(uuid.uuid5(POINT_NAMESPACE, f"{video_id}:{index}"))


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


def _folders(path: str) -> list[str]:
    """Every ancestor folder of a path: a path-prefix filter becomes an exact keyword match."""
    return [str(p) for p in PurePosixPath(path).parents if str(p) not in ("", ".")]


@dataclass(frozen=True)
class SearchFilter:
    """Restrictions on which segments a query may return (all optional, all must hold)."""

    min_duration: float | None = None
    max_duration: float | None = None
    ingested_after: float | None = None  # epoch seconds
    ingested_before: float | None = None
    has_speech: bool | None = None  # the video has speech anywhere
    folder: str | None = None  # the video lies under this folder
    video_ids: tuple[str, ...] | None = None  # only these videos
    exclude_video_ids: tuple[str, ...] = ()

    def to_qdrant(self) -> qm.Filter | None:
        must: list[qm.Condition] = []
        if self.min_duration is not None or self.max_duration is not None:
            rng = qm.Range(gte=self.min_duration, lte=self.max_duration)
            must.append(qm.FieldCondition(key="duration", range=rng))
        if self.ingested_after is not None or self.ingested_before is not None:
            rng = qm.Range(gte=self.ingested_after, lte=self.ingested_before)
            must.append(qm.FieldCondition(key="ingested_at", range=rng))
        if self.has_speech is not None:
            match = qm.MatchValue(value=self.has_speech)
            must.append(qm.FieldCondition(key="video_has_speech", match=match))
        if self.folder:
            match = qm.MatchValue(value=str(PurePosixPath(self.folder)))
            must.append(qm.FieldCondition(key="folders", match=match))
        if self.video_ids is not None:
            must.append(
                qm.FieldCondition(key="video_id", match=qm.MatchAny(any=list(self.video_ids)))
            )
        must_not: list[qm.Condition] = []
        if self.exclude_video_ids:
            anyof = qm.MatchAny(any=list(self.exclude_video_ids))
            must_not.append(qm.FieldCondition(key="video_id", match=anyof))
        if not must and not must_not:
            return None
        return qm.Filter(must=must or None, must_not=must_not or None)


def segment_point(video: Video, segment: Segment) -> SegmentPoint:
    """The point for one catalog segment (its payload carries what filters and results need)."""
    return SegmentPoint(
        video_id=video.id,
        index=segment.index,
        video_vector=unpack_f32(segment.video_vector),
        text_vector=unpack_f32(segment.text_vector),
        lexical=sparse_vector(segment.caption),
        payload={
            "video_id": video.id,
            "index": segment.index,
            "revision": video.revision,
            "start": segment.start,
            "end": segment.end,
            "text": segment.caption,
            "has_speech": bool(segment.transcript.strip()),
            # A segment with neither speech nor tags has no text worth matching.
            "has_text": bool(segment.caption.strip()),
            "video_has_speech": bool(video.has_speech),
            "path": video.source_path,
            "title": video.title,
            "folders": _folders(video.source_path),
            "duration": video.duration,
            "ingested_at": video.created_at.timestamp() if video.created_at else None,
            "payload_version": PAYLOAD_VERSION,
        },
    )


class VectorIndex:
    """The segment index behind a small interface, on one of two engines:

    - a Qdrant server (``qdrant_url``), or any ``QdrantClient`` handed in (tests use ":memory:");
    - otherwise (the embedded default) ``MemoryIndex``, numpy in this process, synced from the
      catalog: qdrant's local ``path=`` mode locks its folder to one process, and the CLI, API,
      UI and workers are separate processes; its ``:memory:`` mode filters in Python and was 14x
      slower at 10k segments (see core/memindex.py).
    """

    def __init__(self, settings: Settings, client: QdrantClient | None = None) -> None:
        self.collection = settings.qdrant_collection
        self._remote = bool(settings.qdrant_url) and client is None
        self.mem: MemoryIndex | None = None
        self.client: QdrantClient | None = None
        if client is not None:
            self.client = client
        elif settings.qdrant_url:
            self.client = QdrantClient(url=settings.qdrant_url)
        else:
            self.mem = MemoryIndex()

    @property
    def _qdrant(self) -> QdrantClient:
        assert self.client is not None
        return self.client

    def _exists(self) -> bool:
        if self.mem is not None:
            return self.mem.dims is not None
        return self._qdrant.collection_exists(self.collection)

    # --- collection ----------------------------------------------------------------------------
    def _dims(self) -> dict[str, int] | None:
        if self.mem is not None:
            return self.mem.dims
        if not self._qdrant.collection_exists(self.collection):
            return None
        params = self._qdrant.get_collection(self.collection).config.params.vectors
        assert isinstance(params, dict)
        return {name: p.size for name, p in params.items()}

    def ensure_collection(self, video_dim: int, text_dim: int) -> None:
        dims = self._dims()
        if dims == {"video": video_dim, "text": text_dim}:
            return
        if dims is not None:
            raise ValueError(
                f"collection {self.collection!r} holds vectors of sizes {dims}, not "
                f"video={video_dim} text={text_dim}; rebuild the index from the catalog"
            )
        if self.mem is not None:
            self.mem.create({"video": video_dim, "text": text_dim})
            return
        self._qdrant.create_collection(
            self.collection,
            vectors_config={
                "video": qm.VectorParams(size=video_dim, distance=qm.Distance.COSINE),
                "text": qm.VectorParams(size=text_dim, distance=qm.Distance.COSINE),
            },
            sparse_vectors_config={LEXICAL: qm.SparseVectorParams(modifier=qm.Modifier.IDF)},
        )
        if not self._remote:
            return  # qdrant's local mode scans payloads; indexes only matter on a server
        for key, schema in (
            ("video_id", qm.PayloadSchemaType.KEYWORD),
            ("duration", qm.PayloadSchemaType.FLOAT),
            ("ingested_at", qm.PayloadSchemaType.FLOAT),
            ("video_has_speech", qm.PayloadSchemaType.BOOL),
            ("has_text", qm.PayloadSchemaType.BOOL),
            ("folders", qm.PayloadSchemaType.KEYWORD),
        ):
            self._qdrant.create_payload_index(self.collection, key, field_schema=schema)

    def drop(self) -> None:
        if self.mem is not None:
            self.mem.drop()
        elif self._qdrant.collection_exists(self.collection):
            self._qdrant.delete_collection(self.collection)

    def count(self) -> int:
        if self.mem is not None:
            return self.mem.count()
        if not self._qdrant.collection_exists(self.collection):
            return 0
        return self._qdrant.count(self.collection, exact=True).count

    # --- writes ----------------------------------------------------------------------------------
    def upsert(self, points: Sequence[SegmentPoint]) -> None:
        if not points:
            return
        self.ensure_collection(len(points[0].video_vector), len(points[0].text_vector))
        if self.mem is not None:
            for p in points:
                lexical = dict(zip(p.lexical.indices, p.lexical.values, strict=True))
                self.mem.upsert(
                    p.id, {"video": p.video_vector, "text": p.text_vector}, lexical, p.payload
                )
            return
        for start in range(0, len(points), UPSERT_BATCH):
            batch = points[start : start + UPSERT_BATCH]
            self._qdrant.upsert(
                self.collection,
                points=[
                    qm.PointStruct(
                        id=p.id,
                        vector={
                            "video": p.video_vector.tolist(),
                            "text": p.text_vector.tolist(),
                            LEXICAL: qm.SparseVector(
                                indices=p.lexical.indices, values=p.lexical.values
                            ),
                        },
                        payload=p.payload,
                    )
                    for p in batch
                ],
            )

    def delete_points(self, ids: Iterable[str]) -> None:
        ids = list(ids)
        if self.mem is not None:
            self.mem.delete(ids)
            return
        if ids and self._qdrant.collection_exists(self.collection):
            for start in range(0, len(ids), UPSERT_BATCH):
                self._qdrant.delete(
                    self.collection,
                    points_selector=qm.PointIdsList(points=list(ids[start : start + UPSERT_BATCH])),
                )

    # --- reads -----------------------------------------------------------------------------------
    def revisions(self) -> dict[str, int]:
        """Every point id with the video revision it was written from."""
        if self.mem is not None:
            return {pid: _revision(payload) for pid, payload in self.mem.items()}
        if not self._qdrant.collection_exists(self.collection):
            return {}
        out: dict[str, int] = {}
        offset = None
        while True:
            records, offset = self._qdrant.scroll(
                self.collection,
                limit=2048,
                offset=offset,
                with_payload=["revision", "payload_version"],
                with_vectors=False,
            )
            for r in records:
                out[str(r.id)] = _revision(r.payload or {})
            if offset is None:
                return out

    def points(self) -> dict[str, dict[str, Any]]:
        """Every point with payload and vectors (for checks and tests; not for big indexes)."""
        if self.mem is not None:
            mem = self.mem
            return {
                pid: {
                    "payload": payload,
                    "vector": {name: _as_list(mem.vector(pid, name)) for name in DENSE}
                    | {LEXICAL: mem.lexical_of(pid)},
                }
                for pid, payload in mem.items()
            }
        if not self._qdrant.collection_exists(self.collection):
            return {}
        out: dict[str, dict[str, Any]] = {}
        offset = None
        while True:
            records, offset = self._qdrant.scroll(
                self.collection, limit=1024, offset=offset, with_payload=True, with_vectors=True
            )
            for r in records:
                out[str(r.id)] = {"payload": r.payload, "vector": r.vector}
            if offset is None:
                return out

    def search_dense(
        self, using: str, vector: np.ndarray, limit: int, flt: SearchFilter | None = None
    ) -> list[Hit]:
        if not self._exists():
            return []
        if self.mem is not None:
            # Segments with no caption have no text vector worth matching.
            flags = {"has_text": True} if using == "text" else {}
            if flt is not None and flt.has_speech is not None:
                flags["video_has_speech"] = flt.has_speech
                flt = replace(flt, has_speech=None)
            found = self.mem.search_dense(using, vector, limit, payload_predicate(flt), flags)
            return [Hit(pid, score, self.mem.payload(pid) or {}) for pid, score in found]
        query_filter = flt.to_qdrant() if flt else None
        if using == "text":
            has_text = qm.FieldCondition(key="has_text", match=qm.MatchValue(value=True))
            query_filter = query_filter or qm.Filter()
            query_filter.must = [*(query_filter.must or []), has_text]  # type: ignore[list-item,misc]
        with _unreachable_is_transient():
            res = self._qdrant.query_points(
                self.collection,
                query=vector.tolist(),
                using=using,
                limit=limit,
                with_payload=True,
                query_filter=query_filter,
            )
        return [Hit(str(p.id), float(p.score), p.payload or {}) for p in res.points]

    def search_lexical(self, text: str, limit: int, flt: SearchFilter | None = None) -> list[Hit]:
        query = sparse_vector(text)
        if query.is_empty() or not self._exists():
            return []
        if self.mem is not None:
            weights = dict(zip(query.indices, query.values, strict=True))
            found = self.mem.search_lexical(weights, limit, payload_predicate(flt))
            return [Hit(pid, score, self.mem.payload(pid) or {}) for pid, score in found]
        with _unreachable_is_transient():
            res = self._qdrant.query_points(
                self.collection,
                query=qm.SparseVector(indices=query.indices, values=query.values),
                using=LEXICAL,
                limit=limit,
                with_payload=True,
                query_filter=flt.to_qdrant() if flt else None,
            )
        return [Hit(str(p.id), float(p.score), p.payload or {}) for p in res.points]

    def vectors(self, ids: Sequence[str], using: str) -> dict[str, np.ndarray]:
        """The named dense vector of each given point (missing points are left out)."""
        if not ids or not self._exists():
            return {}
        if self.mem is not None:
            vecs = {pid: self.mem.vector(pid, using) for pid in ids}
            return {pid: v for pid, v in vecs.items() if v is not None}
        records = self._qdrant.retrieve(
            self.collection, ids=list(ids), with_vectors=[using], with_payload=False
        )
        out = {}
        for r in records:
            vec = r.vector.get(using) if isinstance(r.vector, dict) else None
            if vec is not None:
                out[str(r.id)] = np.asarray(vec, dtype=np.float32)
        return out

    # --- catalog sync --------------------------------------------------------------------------
    def sync_video(self, session: Session, video_id: str) -> SyncReport:
        """Bring one video's points in line with the catalog (after a commit, or a delete)."""
        with _unreachable_is_transient():
            return self._sync_video(session, video_id)

    def _sync_video(self, session: Session, video_id: str) -> SyncReport:
        video = session.get(Video, video_id)
        stale = [pid for pid, _ in self._video_point_ids(video_id)]
        points = []
        if video is not None and video.status == VideoStatus.READY:
            points = [segment_point(video, s) for s in video.segments]
        keep = {p.id for p in points}
        self.upsert(points)
        gone = [pid for pid in stale if pid not in keep]
        self.delete_points(gone)
        return SyncReport(upserted=len(points), deleted=len(gone), total=self.count())

    def _video_point_ids(self, video_id: str) -> list[tuple[str, int]]:
        if self.mem is not None:
            return [
                (pid, int(p.get("index", -1)))
                for pid, p in self.mem.items()
                if p.get("video_id") == video_id
            ]
        if not self._qdrant.collection_exists(self.collection):
            return []
        flt = qm.Filter(
            must=[qm.FieldCondition(key="video_id", match=qm.MatchValue(value=video_id))]
        )
        out: list[tuple[str, int]] = []
        offset = None
        while True:
            records, offset = self._qdrant.scroll(
                self.collection,
                scroll_filter=flt,
                limit=1024,
                offset=offset,
                with_payload=["index"],
                with_vectors=False,
            )
            out.extend((str(r.id), int((r.payload or {}).get("index", -1))) for r in records)
            if offset is None:
                return out

    def sync_from_catalog(self, session: Session) -> SyncReport:
        """Idempotent reconcile: upsert points whose revision differs, delete points not in the catalog."""
        rows = session.execute(
            select(Segment.video_id, Segment.index, Video.revision)
            .join(Video, Video.id == Segment.video_id)
            .where(Video.status == VideoStatus.READY)
        ).all()
        expected = {point_id(v, i): rev for v, i, rev in rows}
        actual = self.revisions()
        changed_videos: dict[str, None] = {}
        for v, i, rev in rows:
            if actual.get(point_id(v, i)) != rev:
                changed_videos[v] = None
        for video_id in changed_videos:
            video = session.get(Video, video_id)
            assert video is not None
            self.upsert([segment_point(video, s) for s in video.segments])
        extra = [pid for pid in actual if pid not in expected]
        self.delete_points(extra)
        upserted = sum(1 for v, _, _ in rows if v in changed_videos)
        return SyncReport(upserted=upserted, deleted=len(extra), total=self.count())

    def rebuild_from_catalog(self, session: Session) -> SyncReport:
        """Drop the collection and write every ready segment again."""
        self.drop()
        return self.sync_from_catalog(session)
