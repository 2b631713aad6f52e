"""Repository functions over the catalog: keyword-only, one small job each."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from core.models import (
    EmbeddingSpace,
    Job,
    JobStatus,
    Segment,
    SpaceRole,
    Video,
    VideoPath,
    VideoStatus,
    utcnow,
)


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


def ready_segments(*, session: Session) -> list[tuple[Video, Segment]]:
    """Every segment of every ready video, ordered by video then segment index."""
    rows = session.execute(
        select(Video, Segment)
        .join(Segment, Segment.video_id == Video.id)
        .where(Video.status == VideoStatus.READY)
        .order_by(Video.id, Segment.index)
    ).all()
    return [(v, s) for v, s in rows]


# --- embedding spaces ------------------------------------------------------------------------------
# Every writer whose decision depends on which space is active or pending (an ingest's commit, a
# re-embed, the swap) calls lock_spaces first in its transaction: the UPDATE row-locks the
# 'active' row on PostgreSQL and takes SQLite's write lock, so those writers run one at a time and
# each reads the spaces as they are when it commits.


def lock_spaces(*, session: Session) -> tuple[EmbeddingSpace, EmbeddingSpace | None]:
    """Lock the space records for this transaction; returns (active, pending or None)."""
    locked = session.execute(
        update(EmbeddingSpace)
        .where(EmbeddingSpace.role == SpaceRole.ACTIVE)
        .values(updated_at=EmbeddingSpace.updated_at)
        .execution_options(synchronize_session=False)
    )
    if locked.rowcount == 0:  # type: ignore[attr-defined]  # a catalog whose row was deleted
        session.add(EmbeddingSpace(role=SpaceRole.ACTIVE))
        session.flush()
    active = session.get(EmbeddingSpace, SpaceRole.ACTIVE, populate_existing=True)
    pending = session.get(EmbeddingSpace, SpaceRole.PENDING, populate_existing=True)
    assert active is not None
    return active, pending


def read_spaces(*, session: Session) -> tuple[EmbeddingSpace | None, EmbeddingSpace | None]:
    """The space records without locking them (for planning; decide under lock_spaces)."""
    return (
        session.get(EmbeddingSpace, SpaceRole.ACTIVE),
        session.get(EmbeddingSpace, SpaceRole.PENDING),
    )


def start_pending_space(*, session: Session, name: str, checkpoint: str | None) -> None:
    """Make ``name`` the pending space; vectors of an earlier pending space are dropped."""
    _, pending = lock_spaces(session=session)
    session.execute(
        update(Segment)
        .where(Segment.next_video_vector.is_not(None))
        .values(next_video_vector=None, next_text_vector=None)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Video)
        .where(Video.next_embedding_model.is_not(None))
        .values(next_embedding_model=None)
        .execution_options(synchronize_session=False)
    )
    if pending is None:
        pending = EmbeddingSpace(role=SpaceRole.PENDING)
        session.add(pending)
    pending.name, pending.checkpoint, pending.updated_at = name, checkpoint, utcnow()
    session.flush()


def set_next_vectors(
    *, session: Session, video_id: str, name: str, vectors: dict[int, tuple[bytes, bytes]]
) -> None:
    """Store a video's vectors in the pending space ``name``: {segment index: (video, text)}."""
    video = session.get(Video, video_id)
    if video is None:
        raise LookupError(f"video {video_id} does not exist")
    segments = list(session.scalars(select(Segment).where(Segment.video_id == video_id)))
    if {s.index for s in segments} != set(vectors):
        raise ValueError(
            f"video {video_id} has segments {sorted(s.index for s in segments)}, "
            f"vectors came for {sorted(vectors)}"
        )
    for seg in segments:
        seg.next_video_vector, seg.next_text_vector = vectors[seg.index]
    video.next_embedding_model = name
    session.flush()


def videos_missing_space(*, session: Session, name: str) -> list[str]:
    """Ready videos without vectors in the space ``name``."""
    return list(
        session.scalars(
            select(Video.id)
            .where(Video.status == VideoStatus.READY)
            .where((Video.next_embedding_model != name) | Video.next_embedding_model.is_(None))
            .order_by(Video.id)
        )
    )


def space_progress(*, session: Session, name: str) -> tuple[int, int]:
    """(ready videos with vectors in the space ``name``, ready videos)."""
    ready = Video.status == VideoStatus.READY
    total = session.scalar(select(func.count(Video.id)).where(ready)) or 0
    done = (
        session.scalar(
            select(func.count(Video.id)).where(ready).where(Video.next_embedding_model == name)
        )
        or 0
    )
    return int(done), int(total)


def swap_pending_space(*, session: Session) -> tuple[str, str | None] | None:
    """If every ready video has vectors in the pending space, make it the active one in this
    transaction: vectors swapped in, each video's revision bumped (so the vector index
    re-syncs) and its embedding_model set. Returns the new active (name, checkpoint), or None when nothing
    is pending or some ready video is still missing (see videos_missing_space)."""
    active, pending = lock_spaces(session=session)
    if pending is None or pending.name is None:
        return None
    if videos_missing_space(session=session, name=pending.name):
        return None
    ready = select(Video.id).where(Video.status == VideoStatus.READY).scalar_subquery()
    session.execute(
        update(Segment)
        .where(Segment.video_id.in_(ready))
        .values(
            video_vector=Segment.next_video_vector,
            text_vector=Segment.next_text_vector,
            next_video_vector=None,
            next_text_vector=None,
        )
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Video)
        .where(Video.status == VideoStatus.READY)
        .values(
            revision=Video.revision + 1,
            embedding_model=pending.name,
            next_embedding_model=None,
        )
        .execution_options(synchronize_session=False)
    )
    swapped = (pending.name, pending.checkpoint)
    active.name, active.checkpoint, active.updated_at = pending.name, pending.checkpoint, utcnow()
    session.delete(pending)
    session.flush()
    session.expire_all()  # rows loaded before the bulk updates are stale now
    return swapped


def video_summary(video: Video) -> dict[str, Any]:
    """A video as the CLI (`videos --json`) and the API (`/videos`) show it: one shape for both."""
    return {
        "video_id": video.id,
        "path": video.source_path,
        "title": video.title,
        "duration": video.duration,
        "status": video.status,
        "error": video.error,
        "segments": len(video.segments),
        "has_speech": video.has_speech,
        "paths": sorted(p.path for p in video.paths),
    }


def job_summary(job: Job) -> dict[str, Any]:
    """A job as the CLI (`ingest --json`, `jobs --json`) and the API (`/jobs/{id}`) show it."""
    return {
        "job_id": job.id,
        "path": job.path,
        "status": job.status,
        "stage": job.stage,
        "progress": round(job.progress, 4),
        "video_id": job.video_id,
        "error": job.error,
        "note": job.note,
        "attempts": job.attempts,
    }
