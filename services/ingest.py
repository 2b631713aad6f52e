"""Ingest: paths in, jobs out; the jobs run in this process (embedded mode) or on Celery workers
(served mode), and each newly indexed video then gets its summary.

In the embedded mode every job has an owner, the process that will run it (core/job_claims.py):
the CLI that queued it, or the API or web UI process. What a dead or interrupted run left behind
(its job in hand and its queued jobs) is taken up by the next ingest, the next API start, or,
for the same paths, adopted instead of queued twice; a claim step makes sure that a CLI and an
API working on one library never run one job twice.
"""

from __future__ import annotations

import logging
import queue
import re
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from core.catalog import create_job, job_summary, list_jobs
from core.db import session_scope
from core.job_claims import (
    adopt,
    current_owner,
    job_is_alive,
    lost_jobs,
    mark_dispatched,
    orphan_for_path,
    own_queued,
    resumable_jobs,
)
from core.models import Job, JobStatus
from core.queue import INGEST_TASK, send
from core.settings import Settings
from core.vectors import VectorStore
from indexer.jobs import ELSEWHERE, ProgressListener, fail_job
from indexer.paths import VIDEO_EXTENSIONS, check_inside_roots, expand_paths
from indexer.pipeline import run_ingest_job
from model_lifecycle.active import prepare_query_encoder

log = logging.getLogger(__name__)

JobUpdate = Callable[[dict[str, Any]], None]  # a job as job_summary shows it
OK = (JobStatus.SUCCEEDED, JobStatus.SKIPPED)


class NothingToIngest(ValueError):
    """No video file under the given paths."""


def create_jobs(
    paths: Iterable[Path], settings: Settings, *, owned: bool = False, confined: bool = False
) -> list[int]:
    """One queued ingest job per file, in order; ``owned``: this process will run them;
    ``confined``: their files must lie under the HTTP roots when they run."""
    me = current_owner()
    with session_scope(settings) as session:
        ids = []
        for p in paths:
            job = create_job(session=session, path=str(p))
            job.confined = confined
            if owned:
                own_queued(job, me, lease_seconds=settings.stale_job_seconds)
            ids.append(job.id)
        return ids


def submit(settings: Settings, paths: Sequence[str | Path], *, confine: bool = False) -> list[int]:
    """Jobs for the given files and folders (walked recursively for video files).

    ``confine`` (HTTP requests): every path must lie inside the HTTP roots (the allowed roots,
    or ``home/videos`` when none are set, and the uploads folder; symlinks and ``..`` resolved),
    checked before any folder is walked, so a request cannot make the server crawl its disks
    (BadInput); each job checks its file again when it runs, so a symlink under a root that
    leads out of it fails its job with the reason. In the embedded mode the jobs belong to this
    process, and a job a dead run left for the same file is adopted rather than queued again.
    Raises NothingToIngest when no video file is found.
    """
    if confine:
        for p in paths:
            check_inside_roots(Path(p), settings.http_roots)
    files = list(expand_paths(Path(p) for p in paths))
    if not files:
        raise NothingToIngest("no video files found under the given paths")
    if not settings.embedded_tasks:
        return create_jobs(files, settings, confined=confine)
    ids = []
    for f in files:
        adopted = _adopt_orphan(settings, str(f))
        if adopted is None:
            adopted = create_jobs([f], settings, owned=True, confined=confine)[0]
        ids.append(adopted)
    return ids


def _adopt_orphan(settings: Settings, path: str) -> int | None:
    with session_scope(settings) as session:
        job = orphan_for_path(session=session, path=path)
        if job is not None and adopt(
            session=session, job=job, lease_seconds=settings.stale_job_seconds
        ):
            return job.id
    return None


def resume_orphans(settings: Settings) -> list[int]:
    """Take over what dead or interrupted runs left (embedded mode: their queued and running
    jobs; served mode: interrupted ones); returns the adopted job ids, oldest first."""
    adopted = []
    with session_scope(settings) as session:
        for job_id in resumable_jobs(session=session, embedded=settings.embedded_tasks):
            job = session.get(Job, job_id)
            # Served: the adopted job goes back to the broker's queue, owned by no process.
            owner = True if settings.embedded_tasks else None
            if job is not None and adopt(
                session=session, job=job, lease_seconds=settings.stale_job_seconds, owner=owner
            ):
                adopted.append(job_id)
    if adopted:
        log.info("resuming %d job(s) a stopped run left: %s", len(adopted), adopted)
    return adopted


class BadUpload(ValueError):
    """An upload refused before it was stored: a name that is no video file's, or too many
    bytes; nothing of it is kept."""


class UploadTooLarge(BadUpload):
    """More bytes than ``max_upload_bytes``."""


_UNSAFE = re.compile(r"[^\w.\- ()+,]+")
PARTIAL = ".part"


def upload_name(name: str) -> str:
    """A file name safe to write: its last path component, odd characters (slashes, control
    characters, newlines) replaced, a leading dot or dash dropped, at most 200 characters."""
    base = _UNSAFE.sub("_", Path(name.replace("\\", "/")).name).strip(" .-_")
    stem, suffix = Path(base).stem[:180], Path(base).suffix.lower()[:10]
    return (stem or "upload") + suffix


class Upload:
    """A video arriving over HTTP, written to ``uploads/<random>/<name>.part`` as it comes and
    renamed to its name only when it is whole and within ``max_upload_bytes``; a refused or
    broken upload leaves nothing behind."""

    def __init__(self, settings: Settings, name: str) -> None:
        clean = upload_name(name)
        if Path(clean).suffix not in VIDEO_EXTENSIONS:
            raise BadUpload(
                f"{name!r} is not a video file name (it must end in one of "
                f"{', '.join(sorted(VIDEO_EXTENSIONS))})"
            )
        self.limit = settings.max_upload_bytes
        self.folder = settings.uploads_dir / uuid.uuid4().hex[:16]
        self.folder.mkdir(parents=True)
        self.path = self.folder / clean
        self._partial = self.path.with_name(self.path.name + PARTIAL)
        self._out = self._partial.open("xb")
        self.size = 0

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.limit:
            self.abort()
            raise UploadTooLarge(
                f"upload is over the limit of {self.limit} bytes (VIDSEARCH_MAX_UPLOAD_BYTES)"
            )
        self._out.write(chunk)

    def finish(self) -> Path:
        self._out.close()
        if self.size == 0:
            self.abort()
            raise BadUpload("upload is empty (0 bytes)")
        self._partial.rename(self.path)
        return self.path

    def abort(self) -> None:
        self._out.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def drop_partial_uploads(settings: Settings, older_than: float = 3600.0) -> int:
    """Remove what uploads cut off by a crash left (``*.part`` older than ``older_than``
    seconds: a younger one may still be arriving in another API process)."""
    removed = 0
    now = time.time()
    for part in settings.uploads_dir.glob(f"*/*{PARTIAL}"):
        try:
            if now - part.stat().st_mtime > older_than:
                shutil.rmtree(part.parent, ignore_errors=True)
                removed += 1
        except OSError:
            continue
    return removed


UPLOAD_CHUNK = 1 << 20


def save_upload(settings: Settings, name: str, data: bytes | BinaryIO) -> Path:
    """Keep a file uploaded through the web UI under ``VIDSEARCH_HOME/uploads`` (its own folder,
    so two uploads with one name never collide) and return its path, ready for ``submit``; the
    same checks as an HTTP upload (a video file name, ``max_upload_bytes``; BadUpload)."""
    upload = Upload(settings, name)
    try:
        if isinstance(data, bytes):
            upload.write(data)
        else:
            while chunk := data.read(UPLOAD_CHUNK):
                upload.write(chunk)
        return upload.finish()
    except BaseException:
        upload.abort()
        raise


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
    time); returns the job's final status, or ``ELSEWHERE`` when a live process runs it.
    TransientError propagates, for a task queue to retry; so do KeyboardInterrupt and
    SystemExit, after the job was marked interrupted."""
    status = run_ingest_job(job_id, settings=settings, listener=listener, store=store)
    if status == JobStatus.SUCCEEDED and summarize and settings.summaries_at_index:
        video_id = job_view(settings, job_id)["video_id"]
        if video_id:
            summarize_after_ingest(settings, video_id)
    return status


def _run_one(settings: Settings, job_id: int, listener: ProgressListener | None) -> str:
    try:
        return ingest_job(settings, job_id, listener=listener)
    except Exception as exc:  # noqa: BLE001 - in-process nobody retries: the job fails, the rest go on
        log.warning("ingest job %s: %s", job_id, exc)
        fail_job(settings, job_id, str(exc))
        return JobStatus.FAILED


def run_jobs(
    settings: Settings,
    job_ids: Sequence[int],
    *,
    listener: ProgressListener | None = None,
    on_finished: Callable[[int, str], None] | None = None,
    poll: float = 0.5,
) -> dict[int, str]:
    """Embedded mode: run the jobs here, one after another, and see each to its end: a job
    another live process runs, or a duplicate of one, is waited for, and taken over here if
    its owner dies. Returns each job's outcome (see ``outcome``). KeyboardInterrupt and
    SystemExit propagate; the job in hand reads interrupted and the rest stay resumable."""
    results = _run_and_wait(settings, job_ids, listener, on_finished, poll)
    if JobStatus.SUCCEEDED in results.values():
        _prepare_queries(settings)  # so that the next search process starts without torch
    return results


def _prepare_queries(settings: Settings) -> None:
    try:
        prepare_query_encoder(settings)
    except Exception as exc:  # noqa: BLE001 - searches still work, only slower to start
        log.warning("could not prepare the query encoder: %s", exc)


def _run_and_wait(
    settings: Settings,
    job_ids: Sequence[int],
    listener: ProgressListener | None,
    on_finished: Callable[[int, str], None] | None,
    poll: float,
) -> dict[int, str]:
    results: dict[int, str] = {}
    waiting: list[int] = []
    for job_id in job_ids:
        status = _run_one(settings, job_id, listener)
        if status == ELSEWHERE or _waits_for(settings, job_id):
            waiting.append(job_id)
            continue
        results[job_id] = status
        if on_finished:
            on_finished(job_id, status)
    while waiting:
        for job_id in list(waiting):
            job = job_view(settings, job_id)
            other = job.get("duplicate_of")
            target = other if job["status"] == JobStatus.SKIPPED and other else job_id
            state = _state(settings, target)
            if state == "running":
                continue
            if state == "orphaned":
                _run_one(settings, target, listener)  # its owner died: finish it here
                continue
            waiting.remove(job_id)
            results[job_id] = outcome(settings, job_id)
            if on_finished:
                on_finished(job_id, results[job_id])
        if waiting:
            time.sleep(poll)
    return results


def _state(settings: Settings, job_id: int) -> str:
    """'finished', 'running' (a live owner has it) or 'orphaned' (nobody will finish it)."""
    with session_scope(settings) as session:
        job = session.get(Job, job_id)
        if job is None or job.status in JobStatus.FINISHED:
            return "finished"
        return "running" if job_is_alive(job) else "orphaned"


def _waits_for(settings: Settings, job_id: int) -> bool:
    """A skipped duplicate whose original job has not ended yet."""
    job = job_view(settings, job_id)
    other = job.get("duplicate_of")
    return bool(
        job["status"] == JobStatus.SKIPPED and other and _state(settings, other) != "finished"
    )


def outcome(settings: Settings, job_id: int) -> str:
    """What a job achieved: its own status, except that a skipped duplicate achieved what the
    job it deferred to did (a failed original means this file is not indexed either)."""
    job = job_view(settings, job_id)
    other = job.get("duplicate_of")
    if job["status"] == JobStatus.SKIPPED and other:
        original = job_view(settings, other)["status"]
        return JobStatus.SKIPPED if original == JobStatus.SUCCEEDED else original
    return str(job["status"])


def dispatch(settings: Settings, job_ids: Sequence[int]) -> int:
    """Served mode: one Celery task per job (services/tasks.py runs them on the workers);
    returns how many were sent. A broker that cannot be reached is not an error here: the jobs
    stay queued in the catalog, never sent, and the workers' sweep (recover_lost_jobs) sends
    them once it is back."""
    if settings.embedded_tasks:
        raise RuntimeError("no broker configured (VIDSEARCH_BROKER_URL); run the jobs in-process")
    sent = 0
    for job_id in job_ids:
        try:
            send(INGEST_TASK, job_id)
        except Exception as exc:  # noqa: BLE001 - kombu's errors vary by transport
            log.warning(
                "could not send job %s to the task queue (%s); it stays queued", job_id, exc
            )
            continue
        sent += 1
        with session_scope(settings) as session:
            mark_dispatched(session=session, job_id=job_id)
    return sent


def recover_lost_jobs(settings: Settings, *, broker_forgot: bool = False) -> list[int]:
    """Served mode, run now and then by every worker: send again the jobs nobody will finish
    otherwise. Those are jobs a dead worker held whose message is gone too (their lease ran out),
    interrupted ones, jobs never sent (the broker was down when they were queued), and, when the
    broker lost its queues (``broker_forgot``: restarted without persistence), every queued job.
    Sending a job twice is harmless: a task claims its job first, and a claimed or finished job
    is left alone. Returns the ids sent."""
    with session_scope(settings) as session:
        lost = lost_jobs(
            session=session, broker_forgot=broker_forgot, grace_seconds=DISPATCH_GRACE_SECONDS
        )
        todo = [
            job.id
            for job in lost
            if adopt(session=session, job=job, lease_seconds=settings.stale_job_seconds, owner=None)
        ]
    if todo:
        log.warning("sending %d job(s) again that nobody would finish: %s", len(todo), todo)
        dispatch(settings, todo)
    return todo


DISPATCH_GRACE_SECONDS = 10.0  # a job just queued is being sent by whoever queued it


class LostJobSweeper:
    """Served mode: a thread in each worker's main process that runs recover_lost_jobs every
    third of ``stale_job_seconds``, asking the broker each time whether it forgot its queues.
    A catalog or broker that is down is logged and tried again at the next round."""

    def __init__(self, settings: Settings, *, interval: float | None = None) -> None:
        self.settings = settings
        self.interval = interval or max(1.0, settings.stale_job_seconds / 3)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lost-job-sweeper", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def sweep(self) -> list[int]:
        from core.queue import broker_forgot, note_broker_seen

        forgot = broker_forgot()
        sent = recover_lost_jobs(self.settings, broker_forgot=forgot)
        if forgot:
            # Only now: a sweep that failed half way (the catalog down too) is done again.
            note_broker_seen()
        return sent

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.sweep()
            except Exception as exc:  # noqa: BLE001 - a down catalog or broker: next round
                log.warning("lost-job sweep failed: %s", exc)


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

    def resume(self) -> list[int]:
        """At start: take over the jobs a stopped process left (see resume_orphans)."""
        adopted = resume_orphans(self.settings)
        if adopted:
            self.enqueue(adopted)
        return adopted

    def shutdown(self, timeout: float = 60.0) -> None:
        """Let the job in hand finish (queued ones stay queued, and the next start resumes
        them), then stop."""
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


@dataclass(frozen=True)
class Left:
    """What an interrupted run leaves for the next one."""

    interrupted: list[dict[str, Any]]
    queued: list[dict[str, Any]]


def left_behind(settings: Settings, job_ids: Sequence[int]) -> Left:
    views = job_views(settings, job_ids)
    return Left(
        interrupted=[v for v in views if v["status"] in (JobStatus.INTERRUPTED, JobStatus.RUNNING)],
        queued=[v for v in views if v["status"] == JobStatus.QUEUED],
    )


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


def all_succeeded(outcomes: Iterable[str]) -> bool:
    """Every file was indexed, or was indexed already."""
    return all(o in OK for o in outcomes)
