"""Repository functions over the catalog: keyword-only, one small job each."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import delete, func, select, tuple_
from sqlalchemy.orm import Session, selectinload

from core.answers import JobView, VideoView
from core.job_claims import shown_status
from core.models import Job, JobStatus, Segment, Video, VideoPath, VideoStatus


def create_job(*, session: Session, path: str, kind: str = "ingest") -> Job:
    job = Job(path=path, kind=kind, status=JobStatus.QUEUED, stage="queued", progress=0.0)
    session.add(job)
    session.flush()
    return job


def list_jobs(
    *, session: Session, limit: int = 200, offset: int = 0, job_ids: Sequence[int] | None = None
) -> list[Job]:
    """The newest jobs first (a page of them), or the given jobs in id order."""
    if job_ids is not None:
        return list(session.scalars(select(Job).where(Job.id.in_(job_ids)).order_by(Job.id)))
    return list(session.scalars(select(Job).order_by(Job.id.desc()).offset(offset).limit(limit)))


def count_jobs(*, session: Session) -> int:
    return int(session.scalar(select(func.count(Job.id))) or 0)


def list_videos(
    *,
    session: Session,
    status: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[Video]:
    """Videos in the order they were added (a page of them when ``limit`` is given)."""
    query = select(Video).options(selectinload(Video.paths)).order_by(Video.created_at, Video.id)
    if status:
        query = query.where(Video.status == status)
    if offset:
        query = query.offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def count_videos(*, session: Session, status: str | None = None) -> int:
    query = select(func.count(Video.id))
    if status:
        query = query.where(Video.status == status)
    return int(session.scalar(query) or 0)


def segment_counts(*, session: Session, video_ids: Sequence[str]) -> dict[str, int]:
    """How many segments each video has, counted in SQL (no vectors are loaded)."""
    if not video_ids:
        return {}
    rows = session.execute(
        select(Segment.video_id, func.count(Segment.id))
        .where(Segment.video_id.in_(list(video_ids)))
        .group_by(Segment.video_id)
    ).all()
    counts = {v: 0 for v in video_ids}
    counts.update({v: int(n) for v, n in rows})
    return counts


def failed_file_jobs(*, session: Session, limit: int = 200) -> list[Job]:
    """The latest ingest job of each file, where it failed before the catalog had a video for
    the file; newest first."""
    latest = (
        select(func.max(Job.id).label("id")).where(Job.kind == "ingest").group_by(Job.path)
    ).subquery()
    return list(
        session.scalars(
            select(Job)
            .join(latest, latest.c.id == Job.id)
            .where(Job.status == JobStatus.FAILED, Job.video_id.is_(None))
            .order_by(Job.id.desc())
            .limit(limit)
        )
    )


def delete_failed_file_jobs(*, session: Session, path: str) -> int:
    """Drop the failed jobs of a file that never became a video; how many went."""
    result = session.execute(
        delete(Job).where(Job.path == path, Job.status == JobStatus.FAILED, Job.video_id.is_(None))
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def claiming_job(*, session: Session, video: Video) -> Job | None:
    """The job that claimed the video last (alive or not: core.job_claims.job_is_alive tells)."""
    return session.get(Job, video.claimed_by_job) if video.claimed_by_job else None


def get_video(*, session: Session, video_id: str, for_update: bool = False) -> Video | None:
    """The video, or None; ``for_update`` locks its row until the session ends (PostgreSQL)."""
    return session.get(Video, video_id, with_for_update=for_update or None)


def remove_video(*, session: Session, video: Video) -> None:
    """Delete the video's rows (its segments, paths, events and summaries go with it) and the
    jobs that indexed it."""
    session.execute(delete(Job).where(Job.video_id == video.id))
    session.delete(video)


class VideoHeader(NamedTuple):
    """What a list of videos shows of each, without the ORM."""

    id: str
    title: str
    duration: float | None
    status: str
    source_path: str
    error: str | None


def video_headers(*, session: Session, video_ids: Sequence[str]) -> list[VideoHeader]:
    """The headers of these videos, in no particular order; unknown ids are left out."""
    rows = session.execute(
        select(
            Video.id, Video.title, Video.duration, Video.status, Video.source_path, Video.error
        ).where(Video.id.in_(list(video_ids)))
    ).all()
    return [VideoHeader(*row) for row in rows]


def ready_source_paths(*, session: Session) -> list[str]:
    """Where every ready video was found first."""
    return list(session.scalars(select(Video.source_path).where(Video.status == VideoStatus.READY)))


class ReadyVideo(NamedTuple):
    """A ready video's columns as the recommender's library reads them."""

    id: str
    revision: int
    title: str
    source_path: str
    duration: float | None
    indexed_at: datetime | None
    created_at: datetime


def ready_videos(*, session: Session) -> list[ReadyVideo]:
    """Every ready video, by id."""
    rows = session.execute(
        select(
            Video.id,
            Video.revision,
            Video.title,
            Video.source_path,
            Video.duration,
            Video.indexed_at,
            Video.created_at,
        )
        .where(Video.status == VideoStatus.READY)
        .order_by(Video.id)
    ).all()
    return [ReadyVideo(*row) for row in rows]


def count_ready_segments(*, session: Session) -> int:
    """How many segments the ready videos have: the points an index of them holds."""
    count = session.scalar(
        select(func.count(Segment.id))
        .join(Video, Video.id == Segment.video_id)
        .where(Video.status == VideoStatus.READY)
    )
    return int(count or 0)


class ReadyCounts(NamedTuple):
    videos: int  # ready videos with at least one segment
    segments: int


def ready_counts(*, session: Session) -> ReadyCounts:
    """How many segments the ready videos have, and how many ready videos have any: what an
    index filled from the catalog holds."""
    videos, segments = session.execute(
        select(func.count(func.distinct(Video.id)), func.count(Segment.id))
        .select_from(Video)
        .join(Segment, Segment.video_id == Video.id)
        .where(Video.status == VideoStatus.READY)
    ).one()
    return ReadyCounts(int(videos), int(segments))


def add_path(*, session: Session, video: Video, path: str) -> None:
    """Remember another name for the same bytes (a path moves to the newest content it held)."""
    existing = session.scalar(select(VideoPath).where(VideoPath.path == path))
    if existing is None:
        session.add(VideoPath(video_id=video.id, path=path))
    elif existing.video_id != video.id:
        existing.video_id = video.id


@dataclass(frozen=True)
class SegmentDetail:
    """One segment's timing and text, as a video's page lists it (no vectors)."""

    index: int
    start: float
    end: float
    transcript: str
    tags: str
    looks: str | None
    people: str | None
    screen_text: str | None


def segment_details(*, session: Session, video_id: str) -> list[SegmentDetail]:
    """The video's segments in order, without their vectors."""
    rows = session.execute(
        select(
            Segment.index,
            Segment.start,
            Segment.end,
            Segment.transcript,
            Segment.tags,
            Segment.looks,
            Segment.people,
            Segment.screen_text,
        )
        .where(Segment.video_id == video_id)
        .order_by(Segment.index)
    ).all()
    return [SegmentDetail(*row) for row in rows]


def segments_at(*, session: Session, video_id: str, indexes: Sequence[int]) -> list[Segment]:
    """These segments of the video (those it has), in order."""
    return list(
        session.scalars(
            select(Segment)
            .where(Segment.video_id == video_id, Segment.index.in_(list(indexes)))
            .order_by(Segment.index)
        )
    )


def video_segments(*, session: Session, video_id: str, index: int | None = None) -> list[Segment]:
    """A video's segments (only segment ``index`` when given): what an example query averages."""
    query = select(Segment).where(Segment.video_id == video_id)
    if index is not None:
        query = query.where(Segment.index == index)
    return list(session.scalars(query))


def clip_features(
    *, session: Session, moments: Sequence[tuple[str, int]]
) -> dict[tuple[str, int], bytes]:
    """(video id, segment index) -> its packed clip features, for those of the moments that
    exist (the reranker reads the query with them)."""
    rows = session.execute(
        select(Segment.video_id, Segment.index, Segment.clip_features).where(
            tuple_(Segment.video_id, Segment.index).in_(list(moments))
        )
    ).all()
    return {(v, i): blob for v, i, blob in rows}


def segment_thumbnail(*, session: Session, video_id: str, index: int) -> str | None:
    """The segment's thumbnail, relative to the thumbnails folder (None: no such segment, or
    it has none)."""
    return session.scalar(
        select(Segment.thumbnail).where(Segment.video_id == video_id, Segment.index == index)
    )


def segment_thumbnails(
    *, session: Session, moments: Sequence[tuple[str, int]]
) -> dict[tuple[str, int], str | None]:
    """(video id, segment index) -> its thumbnail, for those of the moments that exist."""
    rows = session.execute(
        select(Segment.video_id, Segment.index, Segment.thumbnail).where(
            tuple_(Segment.video_id, Segment.index).in_(list(moments))
        )
    ).all()
    return {(v, i): t for v, i, t in rows}


def video_thumbnails(*, session: Session, video_id: str) -> list[str | None]:
    """The video's segments' thumbnails in segment order (relative to the thumbnails folder)."""
    return list(
        session.scalars(
            select(Segment.thumbnail).where(Segment.video_id == video_id).order_by(Segment.index)
        )
    )


def ready_spaces(*, session: Session) -> dict[str, int]:
    """The vector spaces ready videos are in, each with how many videos."""
    rows = session.execute(
        select(Video.embedding_model, func.count(Video.id))
        .where(Video.status == VideoStatus.READY)
        .group_by(Video.embedding_model)
    ).all()
    return {str(name): int(n) for name, n in rows if name}


def ready_segment_tags(*, session: Session) -> list[tuple[str, str]]:
    """(video id, comma-separated tags) of every ready video's segments that have tags."""
    rows = session.execute(
        select(Segment.video_id, Segment.tags)
        .join(Video, Video.id == Segment.video_id)
        .where(Video.status == VideoStatus.READY, Segment.tags != "")
    ).all()
    return [(v, t) for v, t in rows]


def segment_vectors(
    *, session: Session, video_ids: Sequence[str]
) -> list[tuple[str, float, float, bytes]]:
    """(video id, start, end, packed video vector) of every segment of these videos: what a
    video-level vector is averaged from. Callers keep ``video_ids`` to a bounded chunk."""
    rows = session.execute(
        select(Segment.video_id, Segment.start, Segment.end, Segment.video_vector).where(
            Segment.video_id.in_(list(video_ids))
        )
    ).all()
    return [(v, s, e, b) for v, s, e, b in rows]


def replace_segments(*, session: Session, video_id: str, segments: list[Segment]) -> None:
    session.execute(delete(Segment).where(Segment.video_id == video_id))
    session.flush()
    session.add_all(segments)


class ReadySignature(NamedTuple):
    """What changes whenever the set of ready videos or any of their vectors changes: a new,
    removed or failed video moves the count or the newest update, a re-ingest or an embedding
    swap the revisions."""

    videos: int
    revisions: int
    newest_indexed_at: datetime | None
    newest_update: datetime | None


def ready_signature(*, session: Session) -> ReadySignature:
    """One aggregate row over the ready videos; readers that cache vectors (the embedded vector
    index, the recommender's library) compare it before deciding to re-read anything. It reads
    every ready video's row (16 ms at 10k videos on SQLite), so callers rate-limit it."""
    count, revisions, newest, updated = session.execute(
        select(
            func.count(Video.id),
            func.coalesce(func.sum(Video.revision), 0),
            func.max(Video.indexed_at),
            func.max(Video.updated_at),
        ).where(Video.status == VideoStatus.READY)
    ).one()
    return ReadySignature(int(count), int(revisions), newest, updated)


def ready_segments(*, session: Session) -> list[tuple[Video, Segment]]:
    """Every segment of every ready video, ordered by video then segment index."""
    rows = session.execute(
        select(Video, Segment)
        .join(Segment, Segment.video_id == Video.id)
        .where(Video.status == VideoStatus.READY)
        .order_by(Video.id, Segment.index)
    ).all()
    return [(v, s) for v, s in rows]


def video_summary(video: Video, *, segments: int) -> VideoView:
    """A video as the CLI (`videos --json`) and the API (`/videos`) show it: one shape for both.
    ``segments``: its segment count (see segment_counts)."""
    return {
        "video_id": video.id,
        "path": video.source_path,
        "title": video.title,
        "duration": video.duration,
        "status": video.status,
        "error": video.error,
        "segments": segments,
        "has_speech": video.has_speech,
        "paths": sorted(p.path for p in video.paths),
    }


def job_summary(job: Job) -> JobView:
    """A job as the CLI (`ingest --json`, `jobs --json`) and the API (`/jobs/{id}`) show it."""
    return {
        "job_id": job.id,
        "path": job.path,
        # A job whose process died mid-way is not shown as running (core/job_claims.py).
        "status": shown_status(job),
        "stage": job.stage,
        "progress": round(job.progress, 4),
        "video_id": job.video_id,
        "error": job.error,
        "note": job.note,
        "attempts": job.attempts,
        "duplicate_of": job.duplicate_of,
    }
