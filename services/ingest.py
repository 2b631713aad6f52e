"""Ingest from submit to "done, here is the video": the one call a front end makes
(``ingest_paths``: the files' jobs run here, or on the workers and are waited for), handing jobs
to whoever runs them (``start``, ``dispatch``), and the served mode's safety net beside
``dispatch``, whose sends it repeats: the lost-job sweep.

The pieces live in modules of their own: paths → jobs (services/submissions.py), running jobs
(services/job_runs.py), the API's and web UI's runner thread (services/background_ingest.py),
jobs as front ends show them (services/job_views.py) and uploads (services/uploads.py). Their
names are importable from here as well, for the callers that import them from this module.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from core.answers import JobView
from core.db import session_scope
from core.job_claims import adopt, lost_jobs, mark_dispatched
from core.models import JobStatus
from core.queue import INGEST_TASK, send
from core.settings import Settings
from services.background_ingest import BackgroundIngest
from services.job_runs import ingest_job, run_jobs
from services.job_views import (
    Left,
    all_succeeded,
    job_view,
    job_views,
    left_behind,
    originals_of_duplicates,
    outcome,
    wait_for,
)
from services.submissions import NothingToIngest, create_jobs, resume_orphans, submit
from services.uploads import (
    BadUpload,
    Upload,
    UploadTooLarge,
    drop_partial_uploads,
    save_upload,
    upload_name,
)

__all__ = [
    "BackgroundIngest",
    "BadUpload",
    "IngestReport",
    "IngestStopped",
    "LostJobSweeper",
    "NothingToIngest",
    "Upload",
    "UploadTooLarge",
    "Watchers",
    "create_jobs",
    "dispatch",
    "drop_partial_uploads",
    "ingest_job",
    "ingest_paths",
    "job_view",
    "job_views",
    "outcome",
    "recover_lost_jobs",
    "resume_orphans",
    "run_jobs",
    "save_upload",
    "start",
    "submit",
    "upload_name",
]

log = logging.getLogger(__name__)

Progress = Callable[[int, str, str, float], None]  # job id, its file, stage, overall 0-1
Finished = Callable[[int, str], None]  # job id, its status (or what it achieved)


@dataclass(frozen=True)
class Watchers:
    """What a front end shows while ``ingest_paths`` works; each part may be left out."""

    resuming: Callable[[list[int]], None] | None = None  # jobs a stopped run left, run first
    progress: Progress | None = None
    finished: Finished | None = None


@dataclass(frozen=True)
class IngestReport:
    """What ``ingest_paths`` did: every job it ran or followed, as job_summary shows it."""

    jobs: list[JobView]
    asked: list[int]  # the jobs for the paths given: whether they are indexed decides the exit
    waited: bool  # False: served mode without waiting; the jobs were only queued
    outcomes: dict[int, str]  # what each job achieved (see outcome); a missing one did not end
    unfinished: list[int]  # served mode: jobs still running when the timeout ran out

    @property
    def all_indexed(self) -> bool:
        """Every file given is indexed now, or was indexed already."""
        return all_succeeded(self.outcomes.get(j, "unfinished") for j in self.asked)


class IngestStopped(Exception):
    """Ctrl-C or SIGTERM stopped an embedded ingest (the cause is that KeyboardInterrupt or
    SystemExit); the job in hand reads interrupted, and ``left`` is what the next run does."""

    def __init__(self, left: Left) -> None:
        super().__init__("ingest stopped")
        self.left = left


def ingest_paths(
    settings: Settings,
    paths: Sequence[str | Path],
    *,
    wait: bool = False,
    timeout: float | None = None,
    watchers: Watchers | None = None,
) -> IngestReport:
    """Index files and folders (walked for video files). In the embedded mode the jobs run here,
    after the jobs a stopped or crashed run left (resumed first), each seen to its end; in the
    served mode they go to the workers and, with ``wait``, are followed until they end (at most
    ``timeout`` seconds), a skipped duplicate until the job it deferred to ends too.
    Raises NothingToIngest, and IngestStopped when Ctrl-C or SIGTERM stopped an embedded run."""
    watchers = watchers or Watchers()
    asked = submit(settings, paths)
    if settings.embedded_tasks:
        return _run_here(settings, asked, watchers)
    dispatch(settings, asked)
    if not wait:
        return _report(settings, asked, asked, waited=False, outcomes={})
    unfinished = _follow(settings, asked, timeout, watchers)
    outcomes = {j: outcome(settings, j) for j in asked}
    return _report(settings, asked, asked, outcomes=outcomes, unfinished=unfinished)


def _run_here(settings: Settings, asked: list[int], watchers: Watchers) -> IngestReport:
    resumed = [j for j in resume_orphans(settings) if j not in asked]
    everything = resumed + asked
    files = {v["job_id"]: v["path"] for v in job_views(settings, everything)}
    if resumed and watchers.resuming:
        watchers.resuming(resumed)
    progress = watchers.progress

    def listener(job_id: int, stage: str, fraction: float) -> None:
        if progress:
            # A job not in the list is the original of a duplicate, taken over here because
            # its owner died: it is shown by its number.
            progress(job_id, files.get(job_id, f"job {job_id}"), stage, fraction)

    try:
        outcomes = run_jobs(settings, everything, listener=listener, on_finished=watchers.finished)
    except (KeyboardInterrupt, SystemExit) as exc:
        raise IngestStopped(left_behind(settings, everything)) from exc
    return _report(settings, everything, asked, outcomes=outcomes)


def _follow(
    settings: Settings, job_ids: list[int], timeout: float | None, watchers: Watchers
) -> list[int]:
    """Served mode: follow the jobs until they end, then the originals of the duplicates among
    them; returns the ids still unfinished when ``timeout`` ran out."""
    files = {v["job_id"]: v["path"] for v in job_views(settings, job_ids)}

    def show(view: JobView) -> None:
        key = view["job_id"]
        if watchers.progress:
            watchers.progress(key, files.get(key, view["path"]), view["stage"], view["progress"])
        if view["status"] in JobStatus.FINISHED and watchers.finished:
            watchers.finished(key, view["status"])

    left = wait_for(settings, job_ids, on_update=show, timeout=timeout)
    # A file skipped because another job is indexing the same bytes waits for that job.
    originals = originals_of_duplicates(settings, job_ids)
    if originals and not left:
        left = wait_for(settings, originals, timeout=timeout)
    return left


def _report(
    settings: Settings,
    shown: list[int],
    asked: list[int],
    *,
    outcomes: dict[int, str],
    waited: bool = True,
    unfinished: list[int] | None = None,
) -> IngestReport:
    return IngestReport(
        jobs=job_views(settings, shown),
        asked=asked,
        waited=waited,
        outcomes=outcomes,
        unfinished=unfinished or [],
    )


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
