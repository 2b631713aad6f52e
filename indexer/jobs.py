"""An ingest job's life in the catalog: claiming it to run, its progress and lease while it
runs, claiming its video, and how it ends (failed, interrupted, skipped)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.exc import IntegrityError

from core.catalog import add_path
from core.db import session_scope
from core.errors import TransientError
from core.job_claims import claim, job_is_alive, renew
from core.models import Job, JobStatus, Segment, Video, VideoStatus, utcnow
from core.settings import Settings
from indexer.commit import finish_job, prune_thumbnails
from indexer.register import Registered

log = logging.getLogger(__name__)

# Share of the progress bar per stage (transcription overlaps sampling).
STAGES = {"register": 0.05, "sample": 0.65, "transcribe": 0.15, "embed": 0.1, "commit": 0.05}

ProgressListener = Callable[[int, str, float], None]


class JobProgress:
    """Writes stage and progress to the job row, at most every ``interval`` seconds."""

    def __init__(
        self,
        settings: Settings,
        job_id: int,
        listener: ProgressListener | None = None,
        interval: float = 0.5,
    ) -> None:
        self.settings = settings
        self.job_id = job_id
        self.listener = listener
        self.interval = interval
        self.fractions = dict.fromkeys(STAGES, 0.0)
        self.stage = "register"
        self._last_write = 0.0

    @property
    def overall(self) -> float:
        return min(1.0, sum(STAGES[s] * f for s, f in self.fractions.items()))

    def update(self, stage: str, fraction: float, *, force: bool = False) -> None:
        self.stage = stage
        self.fractions[stage] = max(self.fractions[stage], min(1.0, fraction))
        if self.listener:
            self.listener(self.job_id, stage, self.overall)
        now = time.monotonic()
        if force or now - self._last_write >= self.interval:
            self._last_write = now
            with session_scope(self.settings) as session:
                job = session.get(Job, self.job_id)
                if job is not None and job.status == JobStatus.RUNNING:
                    job.stage, job.progress, job.heartbeat_at = (
                        stage,
                        round(self.overall, 4),
                        utcnow(),
                    )


class LeaseKeeper:
    """Renews this process's lease on a running job while work goes on (a thread), so an owner
    on another host that stops renewing is taken as dead within ``stale_job_seconds``."""

    def __init__(self, settings: Settings, job_id: int) -> None:
        self.settings = settings
        self.job_id = job_id
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-{job_id}", daemon=True)

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        lease = self.settings.stale_job_seconds
        while not self._stop.wait(max(0.5, lease / 3)):
            try:
                with session_scope(self.settings) as session:
                    renew(session=session, job_id=self.job_id, lease_seconds=lease)
            except Exception as exc:  # noqa: BLE001 - a missed renewal is retried next round
                log.warning("could not renew the lease of job %s: %s", self.job_id, exc)


@dataclass(frozen=True)
class Started:
    """What claiming a job to run it found."""

    status: str  # RUNNING: ours to run now; a finished status; or "elsewhere"
    path: Path
    attempt: int
    video_id: str | None
    confined: bool = False  # asked for over HTTP: the file must lie under the HTTP roots


ELSEWHERE = "elsewhere"  # a live owner (another process) is running the job


def start_job(settings: Settings, job_id: int) -> Started:
    """Claim the job for this process (see core/job_claims.py)."""
    with session_scope(settings) as session:
        job = claim(session=session, job_id=job_id, lease_seconds=settings.stale_job_seconds)
        if job is None:
            found = session.get(Job, job_id)
            assert found is not None
            status = found.status if found.status in JobStatus.FINISHED else ELSEWHERE
            return Started(status, Path(found.path), found.attempts, found.video_id)
        job.stage = "register"
        return Started(
            JobStatus.RUNNING, Path(job.path), job.attempts, job.video_id, bool(job.confined)
        )


def _release_video(session, job_id: int, video_id: str | None, status: str, error: str | None):  # type: ignore[no-untyped-def]
    """A video this job claimed and did not make ready goes to ``status`` and is let go."""
    if video_id is None:
        return
    video = session.get(Video, video_id)
    if video is not None and video.claimed_by_job == job_id and video.status != VideoStatus.READY:
        video.status = status
        video.error = error
        video.claimed_by_job = None


def fail_job(settings: Settings, job_id: int, error: str, video_id: str | None = None) -> None:
    with session_scope(settings) as session:
        job = session.get(Job, job_id)
        if job is not None:
            finish_job(job, status=JobStatus.FAILED, error=error)
        _release_video(session, job_id, video_id, VideoStatus.FAILED, error)


def interrupt_job(
    settings: Settings, job_id: int, video_id: str | None, reason: str, *, stage: str
) -> None:
    """Stopped part way by a person: the job reads interrupted (resumable) in the stage it
    was in, its video goes back to pending, and nothing half-written stays visible."""
    with session_scope(settings) as session:
        job = session.get(Job, job_id)
        if job is not None and job.status == JobStatus.RUNNING:
            job.status = JobStatus.INTERRUPTED
            job.stage = stage
            job.note = f"{reason} during {stage}; the next ingest resumes it"
            job.lease_until = None
        _release_video(session, job_id, video_id, VideoStatus.PENDING, None)
    drop_uncommitted_thumbnails(settings, video_id)


def skip_job(settings: Settings, job_id: int, note: str) -> None:
    with session_scope(settings) as session:
        job = session.get(Job, job_id)
        if job is not None:
            finish_job(job, status=JobStatus.SKIPPED, note=note)


def final_status(settings: Settings, job_id: int) -> str:
    with session_scope(settings) as session:
        job = session.get(Job, job_id)
        return job.status if job is not None else JobStatus.FAILED


def committed_thumbnail_folder(settings: Settings, video_id: str) -> str | None:
    with session_scope(settings) as session:
        seg = session.query(Segment).filter_by(video_id=video_id).first()
        return Path(seg.thumbnail).parts[1] if seg is not None and seg.thumbnail else None


def drop_uncommitted_thumbnails(settings: Settings, video_id: str | None) -> None:
    if video_id is not None:
        prune_thumbnails(
            settings.thumbnails_dir, video_id, keep=committed_thumbnail_folder(settings, video_id)
        )


def claim_video(settings: Settings, job_id: int, reg: Registered) -> str | None:
    """Claim the video for this job; returns None when the job has nothing to do (and ends it:
    skipped, because the bytes are indexed already or a live job is indexing them)."""
    for _ in range(2):
        try:
            with session_scope(settings) as session:
                job = session.get(Job, job_id)
                assert job is not None
                video = session.get(Video, reg.video_id, with_for_update=True)
                if video is not None:
                    if video.status == VideoStatus.READY:
                        add_path(session=session, video=video, path=str(reg.path))
                        job.video_id = video.id
                        finish_job(
                            job,
                            status=JobStatus.SKIPPED,
                            note=f"already indexed as video {video.id}",
                        )
                        return None
                    owner = session.get(Job, video.claimed_by_job) if video.claimed_by_job else None
                    if owner is not None and owner.id != job_id and job_is_alive(owner):
                        add_path(session=session, video=video, path=str(reg.path))
                        job.video_id = video.id
                        job.duplicate_of = owner.id
                        finish_job(
                            job,
                            status=JobStatus.SKIPPED,
                            note=f"same content is being indexed by job {owner.id}",
                        )
                        return None
                else:
                    video = Video(id=reg.video_id, content_hash=reg.content_hash, revision=0)
                    session.add(video)
                describe(video, reg)
                video.status = VideoStatus.PROCESSING
                video.error = None
                video.claimed_by_job = job_id
                add_path(session=session, video=video, path=str(reg.path))
                job.video_id = video.id
                return video.id
        except IntegrityError:
            continue  # another worker inserted the same video a moment ago: look again
    raise TransientError(f"could not claim video {reg.video_id}")


def describe(video: Video, reg: Registered) -> None:
    info = reg.info
    video.source_path = str(reg.path)
    video.title = reg.path.stem.replace("_", " ")
    video.duration = round(info.duration, 3)
    video.fps = info.fps
    video.width, video.height = info.width, info.height
    video.size_bytes = reg.size
    video.container = info.container
    video.video_codec, video.audio_codec = info.video_codec, info.audio_codec
    video.has_audio = info.has_audio
