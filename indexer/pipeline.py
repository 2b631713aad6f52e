"""The ingest pipeline for one job: register → sample (+ segment) → transcribe → embed → commit.

Knows nothing of Celery: a task, the CLI or a UI thread calls ``run_ingest_job(job_id)``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from sqlalchemy.exc import IntegrityError, OperationalError

from core.catalog import add_path, job_is_alive
from core.db import session_scope
from core.errors import BadInput, TransientError
from core.models import Job, JobStatus, Segment, Video, VideoStatus, utcnow
from core.settings import Settings
from core.vectors import VectorStore, sync_video
from indexer import media
from indexer.commit import (
    ClaimLost,
    attempt_dir,
    commit_in_spaces,
    finish_job,
    prune_thumbnails,
    write_thumbnails,
)
from indexer.embed import MAX_SPACE_RETRIES, SpacesMoved, SpaceVectors
from indexer.register import Registered, register
from indexer.sample import analyse
from indexer.transcribe import SpeechRecognizer, align_to_segments, sidecar_cues
from model_lifecycle.active import load_embedder
from videobert.embedder import Embedder

log = logging.getLogger(__name__)
T = TypeVar("T")

# Share of the progress bar per stage (transcription overlaps sampling).
STAGES = {"register": 0.05, "sample": 0.65, "transcribe": 0.15, "embed": 0.1, "commit": 0.05}

ProgressListener = Callable[[int, str, float], None]


class JobProgress:
    """Writes stage and progress to the job row, at most every ``interval`` seconds (a heartbeat too)."""

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


@dataclass
class Models:
    embedder: Embedder
    recognizer: SpeechRecognizer


_recognizers: dict[str | None, SpeechRecognizer] = {}


def load_models(settings: Settings) -> Models:
    """Per-process models (loaded lazily at first use, then kept)."""
    key = settings.whisper_model
    if key not in _recognizers:
        _recognizers[key] = SpeechRecognizer(settings)
    return Models(load_embedder(settings), _recognizers[key])


def _start_job(settings: Settings, job_id: int) -> tuple[str, int, str | None]:
    with session_scope(settings) as session:
        job = session.get(Job, job_id)
        if job is None:
            raise LookupError(f"job {job_id} does not exist")
        if job.status in JobStatus.FINISHED:
            return job.status, job.attempts, job.video_id
        job.status = JobStatus.RUNNING
        job.stage = "register"
        job.attempts += 1
        job.started_at = job.heartbeat_at = utcnow()
        job.error = None
        return job.path, job.attempts, job.video_id


def fail_job(settings: Settings, job_id: int, error: str, video_id: str | None = None) -> None:
    with session_scope(settings) as session:
        job = session.get(Job, job_id)
        if job is not None:
            finish_job(job, status=JobStatus.FAILED, error=error)
        if video_id is not None:
            video = session.get(Video, video_id)
            if (
                video is not None
                and video.claimed_by_job == job_id
                and video.status != VideoStatus.READY
            ):
                video.status = VideoStatus.FAILED
                video.error = error
                video.claimed_by_job = None


def _claim(settings: Settings, job_id: int, reg: Registered) -> str | None:
    """Claim the video for this job; returns None when the job has nothing to do (and ends it)."""
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
                    if (
                        owner is not None
                        and owner.id != job_id
                        and job_is_alive(owner, stale_after=settings.stale_job_seconds)
                    ):
                        add_path(session=session, video=video, path=str(reg.path))
                        job.video_id = video.id
                        finish_job(
                            job,
                            status=JobStatus.SKIPPED,
                            note=f"same content is being indexed by job {owner.id}",
                        )
                        return None
                else:
                    video = Video(id=reg.video_id, content_hash=reg.content_hash, revision=0)
                    session.add(video)
                _describe(video, reg)
                video.status = VideoStatus.PROCESSING
                video.error = None
                video.claimed_by_job = job_id
                add_path(session=session, video=video, path=str(reg.path))
                job.video_id = video.id
                return video.id
        except IntegrityError:
            continue  # another worker inserted the same video a moment ago: look again
    raise TransientError(f"could not claim video {reg.video_id}")


class _StageClock:
    """Adds wall seconds per stage into a dict (a no-op without one); safe across threads."""

    def __init__(self, into: dict[str, float] | None) -> None:
        self.into = into
        self._lock = threading.Lock()

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            if self.into is not None:
                with self._lock:
                    self.into[stage] = self.into.get(stage, 0.0) + time.perf_counter() - started

    def timed(self, stage: str, fn: Callable[..., T]) -> Callable[..., T]:
        def run(*args: object) -> T:
            with self(stage):
                return fn(*args)

        return run


def _describe(video: Video, reg: Registered) -> None:
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


def _committed_thumbnail_folder(settings: Settings, video_id: str) -> str | None:
    with session_scope(settings) as session:
        seg = session.query(Segment).filter_by(video_id=video_id).first()
        return Path(seg.thumbnail).parts[1] if seg is not None and seg.thumbnail else None


def _transcript_cues(
    path: Path, has_audio: bool, models: Models, settings: Settings
) -> list[media.Cue]:
    cues = sidecar_cues(path) + media.subtitle_cues(path)
    if has_audio and settings.transcribe:
        cues += models.recognizer.transcribe(media.decode_audio(path))
    return cues


def run_ingest_job(
    job_id: int,
    *,
    settings: Settings,
    models: Models | None = None,
    store: VectorStore | None = None,
    listener: ProgressListener | None = None,
    timings: dict[str, float] | None = None,
) -> str:
    """Run one ingest job to its end; returns the job's final status.

    Bad input fails the job with its reason; faults outside the file raise TransientError so a
    task queue can retry. Safe to run again for the same job (after a crash, say). ``timings``, if
    given, receives wall seconds per stage (for the benchmark).
    """
    clock = _StageClock(timings)
    started = _start_job(settings, job_id)
    if started[0] in JobStatus.FINISHED:
        if store is not None and started[2] is not None:
            # A retry after the index sync failed: the catalog has the video, the index may not.
            with session_scope(settings) as session:
                sync_video(store, session, started[2])
        return started[0]
    path, attempt = Path(started[0]), started[1]
    progress = JobProgress(settings, job_id, listener)
    video_id: str | None = None
    try:
        with clock("register"):
            reg = register(path, settings)
            video_id = _claim(settings, job_id, reg)
        if video_id is None:
            if store is not None:
                # Already indexed under another job: make sure the index has it too (idempotent).
                with session_scope(settings) as session:
                    sync_video(store, session, reg.video_id)
            return _final_status(settings, job_id)
        progress.update("register", 1.0, force=True)
        models = models or load_models(settings)
        thumbs_root = settings.thumbnails_dir
        # Leftovers of attempts that crashed are removed before this one writes its own.
        prune_thumbnails(
            thumbs_root, video_id, keep=_committed_thumbnail_folder(settings, video_id)
        )

        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="transcribe") as pool:
            # Speech recognition runs beside the frame decode+encode (both release the GIL).
            cues_future: Future[list[media.Cue]] = pool.submit(
                clock.timed("transcribe (own thread)", _transcript_cues),
                reg.path,
                reg.info.has_audio,
                models,
                settings,
            )
            with clock("sample"):
                planned = analyse(
                    reg.path,
                    reg.info,
                    settings,
                    models.embedder,
                    on_progress=lambda f: progress.update("sample", f),
                )
            progress.update("transcribe", 0.0, force=True)
            with clock("transcribe (wait)"):
                cues = cues_future.result()
        transcripts = align_to_segments(cues, [(p.start, p.end) for p in planned])
        progress.update("transcribe", 1.0)
        with clock("embed"):
            spaces = SpaceVectors(settings, models.embedder)
            embedded = spaces.embed(planned, transcripts)
        progress.update("embed", 1.0, force=True)

        with clock("commit"):
            folder = attempt_dir(thumbs_root, video_id, job_id, attempt)
            write_thumbnails(folder, embedded)
            for _ in range(MAX_SPACE_RETRIES):
                try:
                    with session_scope(settings) as session:
                        commit_in_spaces(
                            session,
                            spaces,
                            video_id=video_id,
                            job_id=job_id,
                            segments=embedded,
                            thumbnails_root=thumbs_root,
                            thumbnail_folder=folder,
                        )
                        job = session.get(Job, job_id)
                        assert job is not None
                        finish_job(
                            job, status=JobStatus.SUCCEEDED, note=f"{len(embedded)} segments"
                        )
                    break
                except SpacesMoved as moved:
                    # A swap or a new pending model came between the embed and the commit:
                    # embed in the spaces that are current now (cheap: no decoding), try again.
                    spaces.add(moved.refs)
            else:
                raise TransientError(f"the embedding spaces kept moving under job {job_id}")
            prune_thumbnails(thumbs_root, video_id, keep=folder.name)
            if store is not None:
                with session_scope(settings) as session:
                    sync_video(store, session, video_id)
        return JobStatus.SUCCEEDED
    except BadInput as exc:
        log.info("job %s failed: %s", job_id, exc)
        fail_job(settings, job_id, str(exc), video_id)
        _drop_uncommitted_thumbnails(settings, video_id)
        return JobStatus.FAILED
    except ClaimLost as exc:
        with session_scope(settings) as session:
            job = session.get(Job, job_id)
            if job is not None:
                finish_job(job, status=JobStatus.SKIPPED, note=str(exc))
        return JobStatus.SKIPPED
    except (OperationalError, TransientError, ConnectionError, TimeoutError) as exc:
        raise TransientError(f"job {job_id} ({path}): {exc}") from exc
    except Exception as exc:
        log.exception("job %s crashed", job_id)
        fail_job(settings, job_id, f"{path}: internal error: {type(exc).__name__}: {exc}", video_id)
        _drop_uncommitted_thumbnails(settings, video_id)
        return JobStatus.FAILED


def _drop_uncommitted_thumbnails(settings: Settings, video_id: str | None) -> None:
    if video_id is not None:
        prune_thumbnails(
            settings.thumbnails_dir, video_id, keep=_committed_thumbnail_folder(settings, video_id)
        )


def _final_status(settings: Settings, job_id: int) -> str:
    with session_scope(settings) as session:
        job = session.get(Job, job_id)
        return job.status if job is not None else JobStatus.FAILED
