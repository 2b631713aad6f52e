"""Repository functions over the catalog: keyword-only, one small job each."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core.models import Job, JobStatus, Segment, Video, VideoPath, VideoStatus, utcnow


def _aware(ts: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes even for timezone columns; they were written as UTC.
    if ts is not None and ts.tzinfo is None:
        from datetime import UTC

        return ts.replace(tzinfo=UTC)
    return ts


def create_job(*, session: Session, path: str, kind: str = "ingest") -> Job:
    job = Job(path=path, kind=kind, status=JobStatus.QUEUED, stage="queued", progress=0.0)
    session.add(job)
    session.flush()
    return job


def get_job(*, session: Session, job_id: int) -> Job | None:
    return session.get(Job, job_id)


def list_jobs(*, session: Session, limit: int = 200, job_ids: list[int] | None = None) -> list[Job]:
    query = select(Job).order_by(Job.id.desc()).limit(limit)
    if job_ids is not None:
        query = select(Job).where(Job.id.in_(job_ids)).order_by(Job.id)
    return list(session.scalars(query))


def job_is_alive(job: Job, *, stale_after: float) -> bool:
    """Queued, or running with a recent heartbeat."""
    if job.status == JobStatus.QUEUED:
        return True
    if job.status != JobStatus.RUNNING:
        return False
    beat = _aware(job.heartbeat_at or job.started_at)
    return beat is not None and utcnow() - beat < timedelta(seconds=stale_after)


def list_videos(*, session: Session, status: str | None = None) -> list[Video]:
    query = select(Video).order_by(Video.created_at, Video.id)
    if status:
        query = query.where(Video.status == status)
    return list(session.scalars(query))


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


def ready_video_count(*, session: Session) -> int:
    return len(list(session.scalars(select(Video.id).where(Video.status == VideoStatus.READY))))
