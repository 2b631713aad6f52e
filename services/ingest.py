"""Ingest: paths in, jobs out; the jobs run in this process (embedded mode) or on Celery workers
(served mode), and each newly indexed video then gets its summary."""

from __future__ import annotations

import logging
import queue
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from core.catalog import create_job, job_summary, list_jobs
from core.db import session_scope
from core.errors import BadInput
from core.models import JobStatus
from core.queue import INGEST_TASK, send
from core.settings import Settings
from core.vectors import VectorStore
from indexer.paths import check_inside_roots, expand_paths
from indexer.pipeline import ProgressListener, fail_job, run_ingest_job

log = logging.getLogger(__name__)

JobUpdate = Callable[[dict[str, Any]], None]  # a job as job_summary shows it


class NothingToIngest(ValueError):
    """No video file under the given paths."""


def create_jobs(paths: Iterable[Path], settings: Settings) -> list[int]:
    """One queued ingest job per file, in order."""
    with session_scope(settings) as session:
        return [create_job(session=session, path=str(p)).id for p in paths]


def submit(settings: Settings, paths: Sequence[str | Path], *, confine: bool = False) -> list[int]:
    """Jobs for the given files and folders (walked recursively for video files).

    ``confine`` (HTTP requests): every path must lie inside the allowed roots, checked before
    any folder is walked, so a request cannot make the server crawl its disks (BadInput).
    Raises NothingToIngest when no video file is found.
    """
    if confine:
        for p in paths:
            check_inside_roots(Path(p), settings.ingest_roots)
    files = list(expand_paths(Path(p) for p in paths))
    if not files:
        raise NothingToIngest("no video files found under the given paths")
    return create_jobs(files, settings)


UPLOAD_CHUNK = 1 << 20
_UNSAFE_NAME = re.compile(r"[^\w.\- ()+,]+")


def upload_name(name: str) -> str:
    """A file name safe to write: the last path component, odd characters replaced."""
    base = _UNSAFE_NAME.sub("_", Path(name.replace("\\", "/")).name).strip(" .")
    return base[:200] or "upload"


def save_upload(settings: Settings, name: str, data: bytes | BinaryIO) -> Path:
    """Keep an uploaded file under ``VIDSEARCH_HOME/uploads`` (its own folder, so two uploads
    with one name never collide) and return its path, ready for ``submit``."""
    folder = settings.uploads_dir / uuid.uuid4().hex[:12]
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / upload_name(name)
    with target.open("wb") as out:
        if isinstance(data, bytes):
            out.write(data)
        else:
            while chunk := data.read(UPLOAD_CHUNK):
                out.write(chunk)
    return target


def summarize_after_ingest(settings: Settings, video_id: str) -> None:
    """The summary of a newly indexed video; a failure costs only the summary (it can be made
    on demand later), never the ingest."""
    from services.summaries import summary_of

    try:
        summary_of(settings, video_id)
    except Exception as exc:  # noqa: BLE001 - the video is indexed whatever happens here
        log.warning("summary of %s failed: %s", video_id, exc)


def ingest_job(
    settings: Settings,
    job_id: int,
    *,
    listener: ProgressListener | None = None,
    store: VectorStore | None = None,
    summarize: bool = True,
) -> str:
    """Run one job to its end (then its video's summary, when the settings ask for it at index
    time); returns the job's final status. TransientError propagates, for a task queue to retry."""
    status = run_ingest_job(job_id, settings=settings, listener=listener, store=store)
    if status == JobStatus.SUCCEEDED and summarize and settings.summaries_at_index:
        video_id = job_view(settings, job_id)["video_id"]
        if video_id:
            summarize_after_ingest(settings, video_id)
    return status


def run_jobs(
    settings: Settings,
    job_ids: Sequence[int],
    *,
    listener: ProgressListener | None = None,
    on_finished: Callable[[int, str], None] | None = None,
) -> dict[int, str]:
    """Embedded mode: run the jobs here, one after another. In-process there is nobody to
    retry a transient fault, so it fails that job with its reason and the rest go on."""
    results: dict[int, str] = {}
    for job_id in job_ids:
        try:
            status = ingest_job(settings, job_id, listener=listener)
        except Exception as exc:  # noqa: BLE001 - one job's fault must not stop the batch
            log.warning("ingest job %s: %s", job_id, exc)
            fail_job(settings, job_id, str(exc))
            status = JobStatus.FAILED
        results[job_id] = status
        if on_finished:
            on_finished(job_id, status)
    return results


def dispatch(settings: Settings, job_ids: Sequence[int]) -> None:
    """Served mode: one Celery task per job (services/tasks.py runs them on the workers)."""
    if settings.embedded_tasks:
        raise RuntimeError("no broker configured (VIDSEARCH_BROKER_URL); run the jobs in-process")
    for job_id in job_ids:
        send(INGEST_TASK, job_id)


class BackgroundIngest:
    """Embedded mode in a long-running process (API, web UI): one background thread works
    through ingest jobs in order, so requests return at once."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._queue: queue.Queue[int] = queue.Queue()
        self._runner: threading.Thread | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()

    def enqueue(self, job_ids: Sequence[int]) -> None:
        for job_id in job_ids:
            self._queue.put(job_id)
        with self._lock:
            if self._runner is None or not self._runner.is_alive():
                self._runner = threading.Thread(target=self._drain, name="ingest", daemon=True)
                self._runner.start()

    def shutdown(self, timeout: float = 60.0) -> None:
        """Let the job in hand finish (queued ones stay queued in the catalog), then stop."""
        self._stopping.set()
        if self._runner is not None:
            self._runner.join(timeout)

    def _drain(self) -> None:
        while not self._stopping.is_set():
            try:
                job_id = self._queue.get(timeout=1.0)
            except queue.Empty:
                return
            run_jobs(self.settings, [job_id])


def start(
    settings: Settings, job_ids: Sequence[int], *, background: BackgroundIngest | None
) -> None:
    """Hand jobs to whoever runs them: the workers (served), or a background thread here."""
    if not settings.embedded_tasks:
        dispatch(settings, job_ids)
    elif background is not None:
        background.enqueue(job_ids)
    else:
        raise RuntimeError("embedded mode needs a background runner or run_jobs")


def job_view(settings: Settings, job_id: int) -> dict[str, Any]:
    """One job as every front end shows it (LookupError when there is none)."""
    views = job_views(settings, [job_id])
    if not views:
        raise LookupError(f"no job {job_id}")
    return views[0]


def job_views(settings: Settings, job_ids: Sequence[int]) -> list[dict[str, Any]]:
    with session_scope(settings) as session:
        return [job_summary(j) for j in list_jobs(session=session, job_ids=job_ids)]


def wait_for(
    settings: Settings,
    job_ids: Sequence[int],
    *,
    on_update: JobUpdate | None = None,
    timeout: float | None = None,
    poll: float = 0.5,
) -> list[int]:
    """Follow jobs run elsewhere until each has ended; returns the ids still unfinished when
    ``timeout`` ran out ([] when all ended)."""
    deadline = time.monotonic() + timeout if timeout else None
    pending = set(job_ids)
    while pending:
        for view in job_views(settings, sorted(pending)):
            if on_update:
                on_update(view)
            if view["status"] in JobStatus.FINISHED:
                pending.discard(view["job_id"])
        if not pending or (deadline is not None and time.monotonic() > deadline):
            break
        time.sleep(poll)
    return sorted(pending)


def all_succeeded(views: Iterable[dict[str, Any]]) -> bool:
    """Every job indexed its file or found it indexed already."""
    return all(v["status"] in (JobStatus.SUCCEEDED, JobStatus.SKIPPED) for v in views)


__all__ = [
    "BackgroundIngest",
    "BadInput",
    "NothingToIngest",
    "all_succeeded",
    "create_jobs",
    "dispatch",
    "ingest_job",
    "job_view",
    "job_views",
    "run_jobs",
    "save_upload",
    "start",
    "submit",
    "wait_for",
]
