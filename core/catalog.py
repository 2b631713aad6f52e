"""Repository functions over the catalog: keyword-only, one small job each."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, selectinload

from core.job_claims import shown_status
from core.models import Job, JobStatus, Segment, Video, VideoPath, VideoStatus


def create_job(*, session: Session, path: str, kind: str = "ingest") -> Job:
    job = Job(path=path, kind=kind, status=JobStatus.QUEUED, stage="queued", progress=0.0)
    session.add(job)
    session.flush()
    return job


def get_job(*, session: Session, job_id: int) -> Job | None:
    return session.get(Job, job_id)


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


def add_path(*, session: Session, video: Video, path: str) -> None:
    """Remember another name for the same bytes (a path moves to the newest content it held)."""
    existing = session.scalar(select(VideoPath).where(VideoPath.path == path))
    if existing is None:
        session.add(VideoPath(video_id=video.id, path=path))
    elif existing.video_id != video.id:
        existing.video_id = video.id


def replace_segments(*, session: Session, video_id: str, segments: list[Segment]) -> None:
    session.execute(delete(Segment).where(Segment.video_id == video_id))
    session.flush()
    session.add_all(segments)


def ready_segments(*, session: Session) -> list[tuple[Video, Segment]]:
    """Every segment of every ready video, ordered by video then segment index."""
    rows = session.execute(
        select(Video, Segment)
        .join(Segment, Segment.video_id == Video.id)
        .where(Video.status == VideoStatus.READY)
        .order_by(Video.id, Segment.index)
    ).all()
    return [(v, s) for v, s in rows]


def video_summary(video: Video, *, segments: int) -> dict[str, Any]:
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


def job_summary(job: Job) -> dict[str, Any]:
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
