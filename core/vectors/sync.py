"""Keeping a vector store in line with the catalog, written once against the ``VectorStore``
protocol: the catalog is the truth, so a sync is an idempotent reconcile by point id and video
revision, and a rebuild is a drop followed by a sync. A store that keeps a video-level index
beside its segments (the Qdrant engine: one point per video, for the recommender's recommend
query in served mode) has it kept in step by the same calls."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.arrays import unpack_f32
from core.beliefs import beliefs_from_text
from core.catalog import segment_vectors
from core.lexical import caption_vector
from core.looks import looks_from_text
from core.models import Segment, Video, VideoStatus
from core.people import people_from_text, screen_lines
from core.vectors.store import (
    PAYLOAD_VERSION,
    POINT_NAMESPACE,
    STALE,
    SegmentPoint,
    SyncReport,
    VectorStore,
    folders_of,
    point_id,
)


def segment_point(video: Video, segment: Segment) -> SegmentPoint:
    """The point for one catalog segment (its payload carries what filters and results need)."""
    return SegmentPoint(
        video_id=video.id,
        index=segment.index,
        video_vector=unpack_f32(segment.video_vector),
        text_vector=unpack_f32(segment.text_vector),
        lexical=caption_vector(segment.caption),
        payload={
            "video_id": video.id,
            "index": segment.index,
            "revision": video.revision,
            "start": segment.start,
            "end": segment.end,
            "text": segment.caption,  # what the text and lexical signals read
            # What people are shown of the moment (search/describe.py): what is said, and the
            # hedged tags, never the caption's raw top classes.
            "said": segment.transcript,
            "tags": segment.tags,
            # Class index (as text: payload keys are strings) -> probability, for the concept signal.
            "beliefs": {str(c): p for c, p in beliefs_from_text(segment.class_beliefs).items()},
            "looks": looks_from_text(segment.looks),
            # Faces and people seen (core/people.py), for the people signal and the words.
            "people": people_from_text(segment.people),
            "on_screen": screen_lines(segment.screen_text),
            "has_speech": bool(segment.transcript.strip()),
            # A segment with neither speech nor tags has no text worth matching.
            "has_text": bool(segment.caption.strip()),
            "video_has_speech": bool(video.has_speech),
            "path": video.source_path,
            "title": video.title,
            "folders": folders_of(video.source_path),
            "duration": video.duration,
            "ingested_at": video.created_at.timestamp() if video.created_at else None,
            "payload_version": PAYLOAD_VERSION,
        },
    )


def sync_video(store: VectorStore, session: Session, video_id: str) -> SyncReport:
    """Bring one video's points in line with the catalog (after a commit, or a delete)."""
    video = session.get(Video, video_id)
    stale = store.video_point_ids(video_id)
    points = []
    if video is not None and video.status == VideoStatus.READY:
        points = [segment_point(video, s) for s in video.segments]
    keep = {p.id for p in points}
    store.upsert(points)
    gone = [pid for pid in stale if pid not in keep]
    store.delete(gone)
    videos = video_index_of(store)
    if videos is not None:
        _sync_video_point(videos, video_id, video, points)
    return SyncReport(upserted=len(points), deleted=len(gone), total=store.count())


@dataclass(frozen=True)
class IndexDiff:
    """How a store's segment points stand against the catalog's ready segments."""

    expected: dict[str, tuple[str, int]]  # point id -> (video id, revision), in catalog order
    actual: dict[str, int]  # point id -> the revision its point was written from

    @property
    def changed_videos(self) -> list[str]:
        """Videos with a point missing or written from another revision, in catalog order."""
        changed = {
            v: None for pid, (v, rev) in self.expected.items() if self.actual.get(pid) != rev
        }
        return list(changed)

    @property
    def missing_videos(self) -> list[str]:
        return sorted({v for pid, (v, _) in self.expected.items() if pid not in self.actual})

    @property
    def stale_videos(self) -> list[str]:
        return sorted(
            {
                v
                for pid, (v, rev) in self.expected.items()
                if pid in self.actual and self.actual[pid] != rev
            }
        )

    @property
    def orphaned_points(self) -> list[str]:
        """Points of no ready video's segment, in the store's order."""
        return [pid for pid in self.actual if pid not in self.expected]


def index_diff(store: VectorStore, session: Session) -> IndexDiff:
    """Compare the store's points with the catalog's ready segments (one query, no vectors)."""
    rows = session.execute(
        select(Segment.video_id, Segment.index, Video.revision)
        .join(Video, Video.id == Segment.video_id)
        .where(Video.status == VideoStatus.READY)
    ).all()
    return IndexDiff({point_id(v, i): (v, rev) for v, i, rev in rows}, store.revisions())


def sync_from_catalog(store: VectorStore, session: Session) -> SyncReport:
    """Idempotent reconcile: upsert the points of videos whose revision differs, delete points
    the catalog no longer has."""
    diff = index_diff(store, session)
    changed = diff.changed_videos
    if changed and _sizes_changed(store, session, changed[0]):
        # A swap into a model of another width (a switch of vision model): the index starts
        # over from the catalog, whose every ready video moved in the same transaction.
        store.drop()
        diff = index_diff(store, session)
        changed = diff.changed_videos
    for video_id in changed:
        video = session.get(Video, video_id)
        if video is not None:
            store.upsert([segment_point(video, s) for s in video.segments])
    extra = diff.orphaned_points
    store.delete(extra)
    videos = video_index_of(store)
    if videos is not None:
        # Reconciled on its own revisions: a lost video collection comes back even where
        # every segment point is current.
        reconcile_videos(videos, session)
    rewritten = set(changed)
    upserted = sum(1 for v, _ in diff.expected.values() if v in rewritten)
    return SyncReport(upserted=upserted, deleted=len(extra), total=store.count())


def _sizes_changed(store: VectorStore, session: Session, video_id: str) -> bool:
    """Whether the catalog's vectors are of another width than the index holds."""
    have = store.dims()
    if not have:
        return False
    segment = session.scalars(select(Segment).where(Segment.video_id == video_id).limit(1)).first()
    if segment is None:
        return False
    want = {
        "video": len(unpack_f32(segment.video_vector)),
        "text": len(unpack_f32(segment.text_vector)),
    }
    return want != have


def rebuild_from_catalog(store: VectorStore, session: Session) -> SyncReport:
    """Drop the collection (and a video-level index beside it) and write every ready segment
    again."""
    store.drop()
    return sync_from_catalog(store, session)


# --- the video-level index ------------------------------------------------------------------

VIDEO_PAYLOAD_VERSION = 1  # bump when a video point's payload changes shape: all are rewritten
_CHUNK = 500  # videos per segment query: bounded IN lists on both backends


def mean_video_vector(vectors: np.ndarray, seconds: np.ndarray) -> np.ndarray | None:
    """One vector for a video: its segments' unit vectors averaged, each weighted by its length
    (a 12 s shot says more about the video than a 1 s one). None without segments."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.shape[0] == 0:
        return None
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit = np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 1e-12)
    weights = np.maximum(np.asarray(seconds, dtype=np.float32), 1e-3)
    return (weights @ unit) / float(weights.sum())


def video_point_id(video_id: str) -> str:
    """A video's point id in the video-level index (never the id of one of its segments)."""
    return str(uuid.uuid5(POINT_NAMESPACE, f"{video_id}:video"))


@dataclass(frozen=True)
class VideoPoint:
    """One video in a video-level index: its mean segment vector, and the payload filters read."""

    video_id: str
    vector: np.ndarray  # (dim,)
    payload: dict[str, Any]

    @property
    def id(self) -> str:
        return video_point_id(self.video_id)


def video_payload_revision(payload: dict[str, Any]) -> int:
    """The video revision a video point was written from (STALE for an older payload shape)."""
    current = payload.get("payload_version") == VIDEO_PAYLOAD_VERSION
    return int(payload.get("revision", STALE)) if current else STALE


def video_point(
    video: Video, vectors: Sequence[np.ndarray], seconds: Sequence[float]
) -> VideoPoint | None:
    """The point for one ready video from its segments' video vectors and lengths; None without
    segments or with vectors of mixed sizes (a half-finished migration: left out, as the
    embedded recommender leaves it out)."""
    if not vectors or len({v.shape for v in vectors}) != 1:
        return None
    mean = mean_video_vector(np.stack(vectors), np.asarray(seconds))
    if mean is None:
        return None
    return VideoPoint(
        video_id=video.id,
        vector=mean,
        payload={
            "video_id": video.id,
            "revision": video.revision,
            "title": video.title,
            "path": video.source_path,
            "folders": folders_of(video.source_path),
            "duration": video.duration,
            "ingested_at": video.created_at.timestamp() if video.created_at else None,
            "video_has_speech": bool(video.has_speech),
            "payload_version": VIDEO_PAYLOAD_VERSION,
        },
    )


class VideoIndex(Protocol):
    """A video-level index as the sync writes it."""

    def upsert(self, points: Sequence[VideoPoint]) -> None: ...
    def delete(self, video_ids: Iterable[str]) -> None: ...
    def revisions(self) -> dict[str, int]: ...  # video id -> revision its point was written from


@runtime_checkable
class _WithVideoIndex(Protocol):
    videos: VideoIndex


def video_index_of(store: object) -> VideoIndex | None:
    """The video-level index a store keeps beside its segments, if it keeps one. The embedded
    engine keeps none: its recommender holds the video vectors in its own process."""
    return store.videos if isinstance(store, _WithVideoIndex) else None


def _sync_video_point(
    videos: VideoIndex, video_id: str, video: Video | None, points: Sequence[SegmentPoint]
) -> None:
    point = None
    if video is not None and points:
        seconds = [float(p.payload["end"]) - float(p.payload["start"]) for p in points]
        point = video_point(video, [p.video_vector for p in points], seconds)
    if point is None:
        videos.delete([video_id])
    else:
        videos.upsert([point])


def video_points(session: Session, video_ids: Sequence[str]) -> list[VideoPoint]:
    """Video points for these ready videos, reading only their segments' video vectors."""
    out: list[VideoPoint] = []
    for start in range(0, len(video_ids), _CHUNK):
        chunk = list(video_ids[start : start + _CHUNK])
        videos = session.scalars(
            select(Video).where(Video.id.in_(chunk), Video.status == VideoStatus.READY)
        ).all()
        segments: dict[str, tuple[list[np.ndarray], list[float]]] = {v.id: ([], []) for v in videos}
        for video_id, seg_start, seg_end, blob in segment_vectors(
            session=session, video_ids=list(segments)
        ):
            vecs, secs = segments[video_id]
            vecs.append(unpack_f32(blob))
            secs.append(seg_end - seg_start)
        for video in videos:
            point = video_point(video, *segments[video.id])
            if point is not None:
                out.append(point)
    return out


def reconcile_videos(videos: VideoIndex, session: Session) -> tuple[int, int]:
    """Idempotent reconcile of a video-level index by video revision: (upserted, deleted)."""
    expected: dict[str, int] = {
        video_id: revision
        for video_id, revision in session.execute(
            select(Video.id, Video.revision).where(Video.status == VideoStatus.READY)
        )
    }
    actual = videos.revisions()
    changed = [v for v, rev in expected.items() if actual.get(v) != rev]
    upserted = 0
    for start in range(0, len(changed), _CHUNK):
        points = video_points(session, changed[start : start + _CHUNK])
        videos.upsert(points)
        upserted += len(points)
    extra = [v for v in actual if v not in expected]
    videos.delete(extra)
    return upserted, len(extra)
