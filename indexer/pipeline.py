"""The ingest pipeline for one job: register → sample (+ segment) → transcribe → embed → commit.

Knows nothing of Celery: a task, the CLI or a UI thread calls ``run_job(job_id)`` and learns
what happened (IngestOutcome).
"""

from __future__ import annotations

import errno
import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from core import faults
from core.db import session_scope
from core.errors import BadInput, TransientError
from core.job_claims import end_job, release
from core.models import JobStatus
from core.settings import Settings
from core.transient import UNREACHABLE
from core.vectors import VectorStore, sync_video
from indexer import media
from indexer.commit import (
    ClaimLost,
    attempt_dir,
    commit_in_spaces,
    prune_thumbnails,
    write_thumbnails,
)
from indexer.detect import SegmentDetectors
from indexer.embed import (
    MAX_SPACE_RETRIES,
    EmbeddedSegment,
    SpacesMoved,
    SpaceVectors,
    pictures_of,
)
from indexer.jobs import (
    JobProgress,
    LeaseKeeper,
    ProgressListener,
    Started,
    claim_video,
    committed_thumbnail_folder,
    drop_uncommitted_thumbnails,
    fail_job,
    interrupt_job,
    skip_job,
    start_job,
)
from indexer.paths import discard_refused_upload
from indexer.register import Registered, register
from indexer.sample import PlannedSegment, analyse
from indexer.transcribe import SpeechRecognizer, align_to_segments, sidecar_cues
from model_lifecycle.active import load_embedder
from videobert.embedder import Embedder

log = logging.getLogger(__name__)
T = TypeVar("T")
AUDIO_WINDOW_SECONDS = 20 * 60.0  # sound decoded and transcribed at a time (77 MB of float32)


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


def _transcript_cues(
    path: Path, has_audio: bool, models: Models, settings: Settings, stop: threading.Event
) -> list[media.Cue]:
    cues = sidecar_cues(path) + media.subtitle_cues(path)
    if has_audio and settings.transcribe:
        faults.point("transcribe")
        # Window by window: hours of sound never sit in memory at once.
        for start, audio in media.audio_chunks(path, AUDIO_WINDOW_SECONDS):
            if stop.is_set():
                break
            heard = models.recognizer.transcribe(audio, stop=stop)
            cues += [media.Cue(c.start + start, c.end + start, c.text) for c in heard]
    return cues


@dataclass(frozen=True)
class IngestOutcome:
    """What running a job achieved: its final status (or ``ELSEWHERE`` when a live process runs
    it), the video it indexed or found indexed already (None when none), and why it failed."""

    job_id: int
    status: str
    video_id: str | None
    error: str | None = None


def run_job(
    job_id: int,
    *,
    settings: Settings,
    models: Models | None = None,
    store: VectorStore | None = None,
    listener: ProgressListener | None = None,
    timings: dict[str, float] | None = None,
) -> IngestOutcome:
    """Run one ingest job to its end and say what happened (see IngestOutcome).

    Bad input fails the job with its reason; faults outside the file raise TransientError so a
    task queue can retry (the job is released for whoever runs it next). Ctrl-C or SIGTERM
    (KeyboardInterrupt, SystemExit) marks the job interrupted, puts its video back to pending and
    propagates. Safe to run again for the same job (after a crash, say). ``timings``, if given,
    receives wall seconds per stage (for the benchmark).
    """
    started = start_job(settings, job_id)
    if started.status != JobStatus.RUNNING:
        if store is not None and started.video_id is not None and started.status in FINISHED:
            # A retry after the index sync failed: the catalog has the video, the index may not.
            _sync(settings, store, started.video_id)
        return IngestOutcome(job_id, started.status, started.video_id, started.error)
    run = _Attempt(
        settings=settings,
        job_id=job_id,
        started=started,
        progress=JobProgress(settings, job_id, listener),
        clock=_StageClock(timings),
        models=models,
        store=store,
    )
    try:
        with LeaseKeeper(settings, job_id):
            return _stages(run)
    except BadInput as exc:
        log.info("job %s failed: %s", job_id, exc)
        error = str(exc)
        if discard_refused_upload(started.path, settings.uploads_dir):
            error += " (the uploaded file was removed)"
        return _failed(run, error)
    except ClaimLost as exc:
        skip_job(settings, job_id, str(exc))
        return IngestOutcome(job_id, JobStatus.SKIPPED, run.claimed)
    except RETRIED as exc:
        _release_quietly(settings, job_id)
        raise TransientError(f"job {job_id} ({started.path}): {exc}") from exc
    except (KeyboardInterrupt, SystemExit) as exc:
        reason = "stopped" if isinstance(exc, SystemExit) else "interrupted"
        interrupt_job(settings, job_id, run.claimed, reason, stage=run.progress.stage)
        raise
    except Exception as exc:
        if isinstance(exc, OSError) and exc.errno in DISK_FULL:
            # No fault of the file, but retrying will not free space: the job fails with the
            # reason, its half-written thumbnails go, and ingesting it again later indexes it.
            error = (
                f"{started.path}: no space left on the device for its thumbnails under "
                f"{settings.thumbnails_dir}; free some space and ingest it again"
            )
            log.warning("job %s failed: %s", job_id, error)
        else:
            log.exception("job %s crashed", job_id)
            error = f"{started.path}: internal error: {type(exc).__name__}: {exc}"
        return _failed(run, error)


def run_ingest_job(
    job_id: int,
    *,
    settings: Settings,
    models: Models | None = None,
    store: VectorStore | None = None,
    listener: ProgressListener | None = None,
    timings: dict[str, float] | None = None,
) -> str:
    """run_job's final status alone, for callers that need nothing more (benchmarks, tests)."""
    return run_job(
        job_id, settings=settings, models=models, store=store, listener=listener, timings=timings
    ).status


FINISHED = JobStatus.FINISHED
DISK_FULL = (errno.ENOSPC, errno.EDQUOT)
# Faults outside the file: the job is released and the task queue tries it again.
RETRIED: tuple[type[Exception], ...] = (TransientError, *UNREACHABLE)


@dataclass
class _Attempt:
    """One attempt at one job: what its stages read, and the video it claimed (known to the
    error handlers whatever stage failed)."""

    settings: Settings
    job_id: int
    started: Started
    progress: JobProgress
    clock: _StageClock
    models: Models | None
    store: VectorStore | None
    claimed: str | None = None


def _failed(run: _Attempt, error: str) -> IngestOutcome:
    fail_job(run.settings, run.job_id, error, run.claimed)
    drop_uncommitted_thumbnails(run.settings, run.claimed)
    return IngestOutcome(run.job_id, JobStatus.FAILED, run.claimed, error)


def _release_quietly(settings: Settings, job_id: int) -> None:
    try:
        with session_scope(settings) as session:
            release(session=session, job_id=job_id)
    except Exception as exc:  # noqa: BLE001 - the lease runs out on its own
        log.warning("could not release job %s: %s", job_id, exc)


def _sync(settings: Settings, store: VectorStore, video_id: str) -> None:
    with session_scope(settings) as session:
        sync_video(store, session, video_id)


def _stages(run: _Attempt) -> IngestOutcome:
    """register → sample (+ segment) and transcribe side by side → embed → commit → sync."""
    reg = _register(run)
    if run.claimed is None:
        if run.store is not None:
            # Already indexed under another job: make sure the index has it too (idempotent).
            _sync(run.settings, run.store, reg.video_id)
        # claim_video ended the job: skipped (the bytes are indexed, or being indexed).
        return IngestOutcome(run.job_id, JobStatus.SKIPPED, reg.video_id)
    video_id = run.claimed
    run.progress.update("register", 1.0, force=True)
    models = run.models or load_models(run.settings)
    # Leftovers of attempts that crashed are removed before this one writes its own.
    prune_thumbnails(
        run.settings.thumbnails_dir,
        video_id,
        keep=committed_thumbnail_folder(run.settings, video_id),
    )
    # Which vision model reads the frames, told before they are read: a switch that swaps in
    # another one meanwhile makes the job run again rather than mix two models' features.
    pictures = pictures_of(models.embedder)
    planned, cues = _sample_and_transcribe(run, reg, models)
    transcripts = align_to_segments(cues, [(p.start, p.end) for p in planned])
    run.progress.update("transcribe", 1.0)
    with run.clock("embed"):
        faults.point("embed")
        spaces = SpaceVectors(run.settings, models.embedder, pictures=pictures)
        embedded = spaces.embed(planned, transcripts)
    run.progress.update("embed", 1.0, force=True)
    with run.clock("commit"):
        _commit(run, video_id, spaces, embedded)
    return IngestOutcome(run.job_id, JobStatus.SUCCEEDED, video_id)


def _register(run: _Attempt) -> Registered:
    """Probe and hash the file, then claim its video (``run.claimed``; None: nothing to do)."""
    with run.clock("register"):
        reg = register(run.started.path, run.settings, confined=run.started.confined)
        faults.point("register")
        run.claimed = claim_video(run.settings, run.job_id, reg)
    return reg


def _sample_and_transcribe(
    run: _Attempt, reg: Registered, models: Models
) -> tuple[list[PlannedSegment], list[media.Cue]]:
    """The planned segments (one decode pass) and the speech and subtitle cues, found side by
    side: speech recognition runs in a thread beside the frame decode + encode (both release
    the GIL)."""
    clock, progress = run.clock, run.progress
    stop = threading.Event()  # tells the transcription thread to give up early
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="transcribe") as pool:
        try:
            cues_future: Future[list[media.Cue]] = pool.submit(
                clock.timed("transcribe (own thread)", _transcript_cues),
                reg.path,
                reg.info.has_audio,
                models,
                run.settings,
                stop,
            )
            with clock("sample"):

                def on_sample(fraction: float) -> None:
                    progress.update("sample", fraction)
                    if fraction > 0:
                        faults.point("sample")

                planned = analyse(
                    reg.path,
                    reg.info,
                    run.settings,
                    models.embedder,
                    on_progress=on_sample,
                    detect=SegmentDetectors.from_settings(run.settings, clock),
                )
            progress.update("transcribe", 0.0, force=True)
            with clock("transcribe (wait)"):
                cues = cues_future.result()
        except BaseException:
            stop.set()  # do not make an interrupted job wait for the rest of the transcription
            raise
    return planned, cues


def _commit(
    run: _Attempt, video_id: str, spaces: SpaceVectors, embedded: list[EmbeddedSegment]
) -> None:
    """Thumbnails, then one transaction: the segments in every space the commit must write and
    the job succeeded; then the other thumbnail folders go and the index syncs."""
    settings, job_id = run.settings, run.job_id
    thumbs_root = settings.thumbnails_dir
    folder = attempt_dir(thumbs_root, video_id, job_id, run.started.attempt)
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
                note = f"{len(embedded)} segments"
                end_job(session=session, job_id=job_id, status=JobStatus.SUCCEEDED, note=note)
                session.flush()
                faults.point("commit")  # inside the transaction, before it commits
            break
        except SpacesMoved as moved:
            # A swap or a new pending model came between the embed and the commit:
            # embed in the spaces that are current now (cheap: no decoding), try again.
            spaces.add(moved.refs)
    else:
        raise TransientError(f"the embedding spaces kept moving under job {job_id}")
    faults.point("sync")  # committed, the index not yet synced
    prune_thumbnails(thumbs_root, video_id, keep=folder.name)
    if run.store is not None:
        _sync(settings, run.store, video_id)
