"""An ingest job's life as the pipeline sees it: claiming it to run, its progress and lease
while it runs, claiming its video, and how it ends (failed, interrupted, skipped). The catalog
writes themselves are core's: job statuses in core/job_claims.py, the video in
core/ingest_records.py."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from core.db import session_scope
from core.ingest_records import (
    FoundVideo,
    VideoFacts,
    committed_thumbnail,
    release_video,
)
from core.ingest_records import claim_video as claim_video_row
from core.job_claims import claim, end_job, interrupt, load_job, record_progress, renew
from core.models import JobStatus, VideoStatus
from core.settings import Settings
from indexer.commit import prune_thumbnails
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
                record_progress(
                    session=session,
                    job_id=self.job_id,
                    stage=stage,
                    progress=round(self.overall, 4),
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
    error: str | None = None  # why it failed, for a job that had failed already


ELSEWHERE = "elsewhere"  # a live owner (another process) is running the job


def start_job(settings: Settings, job_id: int) -> Started:
    """Claim the job for this process (see core/job_claims.py)."""
    with session_scope(settings) as session:
        job = claim(
            session=session,
            job_id=job_id,
            lease_seconds=settings.stale_job_seconds,
            stage="register",
        )
        if job is None:
            found = load_job(session=session, job_id=job_id)
            status = found.status if found.status in JobStatus.FINISHED else ELSEWHERE
            return Started(
                status, Path(found.path), found.attempts, found.video_id, error=found.error
            )
        return Started(
            JobStatus.RUNNING, Path(job.path), job.attempts, job.video_id, bool(job.confined)
        )


def fail_job(settings: Settings, job_id: int, error: str, video_id: str | None = None) -> None:
    with session_scope(settings) as session:
        end_job(session=session, job_id=job_id, status=JobStatus.FAILED, error=error)
        release_video(
            session=session,
            job_id=job_id,
            video_id=video_id,
            status=VideoStatus.FAILED,
            error=error,
        )


def interrupt_job(
    settings: Settings, job_id: int, video_id: str | None, reason: str, *, stage: str
) -> None:
    """Stopped part way by a person: the job reads interrupted (resumable) in the stage it
    was in, its video goes back to pending, and nothing half-written stays visible."""
    with session_scope(settings) as session:
        note = f"{reason} during {stage}; the next ingest resumes it"
        interrupt(session=session, job_id=job_id, stage=stage, note=note)
        release_video(
            session=session,
            job_id=job_id,
            video_id=video_id,
            status=VideoStatus.PENDING,
            error=None,
        )
    drop_uncommitted_thumbnails(settings, video_id)


def skip_job(settings: Settings, job_id: int, note: str) -> None:
    with session_scope(settings) as session:
        end_job(session=session, job_id=job_id, status=JobStatus.SKIPPED, note=note)


def committed_thumbnail_folder(settings: Settings, video_id: str) -> str | None:
    """The name of the folder the video's committed thumbnails are in (None: none committed)."""
    with session_scope(settings) as session:
        thumbnail = committed_thumbnail(session=session, video_id=video_id)
    return Path(thumbnail).parts[1] if thumbnail else None


def drop_uncommitted_thumbnails(settings: Settings, video_id: str | None) -> None:
    if video_id is not None:
        prune_thumbnails(
            settings.thumbnails_dir, video_id, keep=committed_thumbnail_folder(settings, video_id)
        )


def claim_video(settings: Settings, job_id: int, reg: Registered) -> str | None:
    """Claim the video for this job; returns None when the job has nothing to do (and ends it:
    skipped, because the bytes are indexed already or a live job is indexing them)."""
    return claim_video_row(settings=settings, job_id=job_id, found=found_video(reg))


def found_video(reg: Registered) -> FoundVideo:
    """A registered file as the catalog's video row keeps it."""
    info = reg.info
    facts = VideoFacts(
        source_path=str(reg.path),
        title=reg.path.stem.replace("_", " "),
        duration=round(info.duration, 3),
        fps=info.fps,
        width=info.width,
        height=info.height,
        size_bytes=reg.size,
        container=info.container,
        video_codec=info.video_codec,
        audio_codec=info.audio_codec,
        has_audio=info.has_audio,
    )
    return FoundVideo(reg.video_id, reg.content_hash, str(reg.path), facts)
