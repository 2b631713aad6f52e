"""Keeping a vector store in line with the catalog, written once against the ``VectorStore``
protocol: the catalog is the truth, so a sync is an idempotent reconcile by point id and video
revision, and a rebuild is a drop followed by a sync."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.arrays import unpack_f32
from core.beliefs import beliefs_from_text
from core.lexical import caption_vector
from core.looks import looks_from_text
from core.models import Segment, Video, VideoStatus
from core.people import people_from_text, screen_lines
from core.vectors.store import (
    PAYLOAD_VERSION,
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
    return SyncReport(upserted=len(points), deleted=len(gone), total=store.count())


def sync_from_catalog(store: VectorStore, session: Session) -> SyncReport:
    """Idempotent reconcile: upsert the points of videos whose revision differs, delete points
    the catalog no longer has."""
    rows = session.execute(
        select(Segment.video_id, Segment.index, Video.revision)
        .join(Video, Video.id == Segment.video_id)
        .where(Video.status == VideoStatus.READY)
    ).all()
    expected = {point_id(v, i): rev for v, i, rev in rows}
    actual = store.revisions()
    changed: dict[str, None] = {}
    for v, i, rev in rows:
        if actual.get(point_id(v, i)) != rev:
            changed[v] = None
    for video_id in changed:
        video = session.get(Video, video_id)
        if video is not None:
            store.upsert([segment_point(video, s) for s in video.segments])
    extra = [pid for pid in actual if pid not in expected]
    store.delete(extra)
    upserted = sum(1 for v, _, _ in rows if v in changed)
    return SyncReport(upserted=upserted, deleted=len(extra), total=store.count())


def rebuild_from_catalog(store: VectorStore, session: Session) -> SyncReport:
    """Drop the collection and write every ready segment again."""
    store.drop()
    return sync_from_catalog(store, session)
