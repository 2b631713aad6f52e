"""The catalog rows an ingest job writes besides its own: claiming its video (or finding the
bytes indexed already, or being indexed by a live job), writing the indexed segments and
flipping the video to ready, letting go of a video it did not finish, and where the video's
committed thumbnails are. Job statuses change only through core/job_claims.py."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.catalog import add_path, replace_segments
from core.db import session_scope
from core.errors import TransientError
from core.job_claims import finish_job, job_is_alive, load_job
from core.models import Job, JobStatus, Segment, Video, VideoStatus, utcnow
from core.settings import Settings


class ClaimLost(Exception):
    """Another job took the video over (ours was presumed dead); our results are dropped."""


@dataclass(frozen=True)
class VideoFacts:
    """What probing a file found, as the video's row keeps it (the column names)."""

    source_path: str
    title: str
    duration: float
    fps: float | None
    width: int
    height: int
    size_bytes: int
    container: str
    video_codec: str | None
    audio_codec: str | None
    has_audio: bool


@dataclass(frozen=True)
class FoundVideo:
    """A file's bytes as registering it found them: the video they are, and its facts."""

    video_id: str
    content_hash: str
    path: str
    facts: VideoFacts


CLAIM_TRIES = 2  # a second look after another worker inserted the same video a moment ago


def claim_video(*, settings: Settings, job_id: int, found: FoundVideo) -> str | None:
    """Claim the video for this job, in a transaction of its own; returns its id, or None when
    the job has nothing to do (and ends it: skipped, because the bytes are indexed already or
    a live job is indexing them). Either way the file's path is recorded as one of the video's."""
    for _ in range(CLAIM_TRIES):
        try:
            with session_scope(settings) as session:
                return _claim_in(session, job_id, found)
        except IntegrityError:
            continue  # another worker inserted the same video a moment ago: look again
    raise TransientError(f"could not claim video {found.video_id}")


def _claim_in(session: Session, job_id: int, found: FoundVideo) -> str | None:
    job = load_job(session=session, job_id=job_id)
    video = session.get(Video, found.video_id, with_for_update=True)
    if video is None:
        video = Video(id=found.video_id, content_hash=found.content_hash, revision=0)
        session.add(video)
    elif video.status == VideoStatus.READY:
        _skip(session, job, video, found.path, note=f"already indexed as video {video.id}")
        return None
    else:
        owner = session.get(Job, video.claimed_by_job) if video.claimed_by_job else None
        if owner is not None and owner.id != job_id and job_is_alive(owner):
            job.duplicate_of = owner.id
            note = f"same content is being indexed by job {owner.id}"
            _skip(session, job, video, found.path, note=note)
            return None
    for column, value in asdict(found.facts).items():
        setattr(video, column, value)
    video.status = VideoStatus.PROCESSING
    video.error = None
    video.claimed_by_job = job_id
    add_path(session=session, video=video, path=found.path)
    job.video_id = video.id
    return video.id


def _skip(session: Session, job: Job, video: Video, path: str, *, note: str) -> None:
    """Nothing for this job to do: the path is the video's too, and the job ends skipped."""
    add_path(session=session, video=video, path=path)
    job.video_id = video.id
    finish_job(job, status=JobStatus.SKIPPED, note=note)


def release_video(
    *, session: Session, job_id: int, video_id: str | None, status: str, error: str | None
) -> None:
    """A video this job claimed and did not make ready goes to ``status`` and is let go."""
    if video_id is None:
        return
    video = session.get(Video, video_id)
    if video is not None and video.claimed_by_job == job_id and video.status != VideoStatus.READY:
        video.status = status
        video.error = error
        video.claimed_by_job = None


def committed_thumbnail(*, session: Session, video_id: str) -> str | None:
    """The stored thumbnail path of one of the video's committed segments (None: it has none)."""
    segment = session.scalars(select(Segment).where(Segment.video_id == video_id).limit(1)).first()
    return segment.thumbnail if segment is not None else None


def write_ready_video(
    *,
    session: Session,
    video_id: str,
    job_id: int,
    segments: Sequence[Segment],
    embedding_model: str,
) -> int:
    """Replace the video's segments, flip it to ready (last) and record it on the job; returns
    its new revision. ClaimLost when another job holds the video now. The caller's session
    commits; on any error it rolls back and the catalog is unchanged."""
    video = session.get(Video, video_id, with_for_update=True)
    if video is None or video.claimed_by_job != job_id:
        raise ClaimLost(f"video {video_id} is no longer claimed by job {job_id}")
    replace_segments(session=session, video_id=video_id, segments=list(segments))
    video.has_speech = any(s.transcript.strip() for s in segments)
    video.embedding_model = embedding_model
    video.revision = (video.revision or 0) + 1
    video.error = None
    video.indexed_at = utcnow()
    # Last: the flip that makes the video visible.
    video.status = VideoStatus.READY
    job = session.get(Job, job_id)
    if job is not None:
        job.video_id = video_id
    session.flush()
    return video.revision
