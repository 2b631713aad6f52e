"""Running ingest jobs and seeing each to its end. In this process (the embedded mode): one
after another, a job another live process runs (or a duplicate of one) waited for and taken
over here if its owner dies. On a worker (the served mode): one job a task hands over. Each
newly indexed video then gets its summary."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

from core.db import session_scope
from core.job_claims import find_job, job_is_alive
from core.models import JobStatus
from core.queue import SUMMARY_TASK, send
from core.settings import Settings
from core.vectors import VectorStore
from indexer.jobs import ELSEWHERE, ProgressListener, fail_job
from indexer.pipeline import IngestOutcome, run_job
from model_lifecycle.active import prepare_query_encoder
from services.job_views import job_view, outcome

log = logging.getLogger(__name__)

Finished = Callable[[int, str], None]  # a job id and what it achieved


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
) -> IngestOutcome:
    """Run one job to its end (then its video's summary, when the settings ask for it at index
    time); says what happened, ``ELSEWHERE`` as the status when a live process runs it.
    TransientError propagates, for a task queue to retry; so do KeyboardInterrupt and
    SystemExit, after the job was marked interrupted."""
    done = run_job(job_id, settings=settings, listener=listener, store=store)
    wanted = summarize and settings.summaries_at_index
    if done.status == JobStatus.SUCCEEDED and wanted and done.video_id:
        summarize_after_ingest(settings, done.video_id)
    return done


def ingest_on_worker(
    settings: Settings, job_id: int, *, store: VectorStore | None
) -> IngestOutcome:
    """Served mode, on a worker: run the job a task hands over. The summary is its own task: a
    summary that fails must not fail (or redo) the ingest."""
    done = ingest_job(settings, job_id, store=store, summarize=False)
    if done.status == JobStatus.SUCCEEDED and settings.summaries_at_index and done.video_id:
        send(SUMMARY_TASK, done.video_id)
    return done


def run_jobs(
    settings: Settings,
    job_ids: Sequence[int],
    *,
    listener: ProgressListener | None = None,
    on_finished: Finished | None = None,
    poll: float = 0.5,
) -> dict[int, str]:
    """Embedded mode: run the jobs here, one after another, and see each to its end: a job
    another live process runs, or a duplicate of one, is waited for, and taken over here if
    its owner dies. Returns each job's outcome (see ``outcome``). KeyboardInterrupt and
    SystemExit propagate; the job in hand reads interrupted and the rest stay resumable."""
    results: dict[int, str] = {}

    def finished(job_id: int, status: str) -> None:
        results[job_id] = status
        if on_finished:
            on_finished(job_id, status)

    waiting = []
    for job_id in job_ids:
        status = _run_one(settings, job_id, listener)
        if status == ELSEWHERE or _waits_for(settings, job_id):
            waiting.append(job_id)
        else:
            finished(job_id, status)
    _see_to_the_end(settings, waiting, listener, finished, poll)
    if JobStatus.SUCCEEDED in results.values():
        _prepare_queries(settings)  # so that the next search process starts without torch
    return results


def _run_one(settings: Settings, job_id: int, listener: ProgressListener | None) -> str:
    try:
        return ingest_job(settings, job_id, listener=listener).status
    except Exception as exc:  # noqa: BLE001 - in-process nobody retries: the job fails, the rest go on
        log.warning("ingest job %s: %s", job_id, exc)
        fail_job(settings, job_id, str(exc))
        return JobStatus.FAILED


def _see_to_the_end(
    settings: Settings,
    waiting: Sequence[int],
    listener: ProgressListener | None,
    finished: Finished,
    poll: float,
) -> None:
    """Wait for jobs a live process runs (or runs the original of); one whose owner died is
    finished here."""
    left = list(waiting)
    while left:
        for job_id in list(left):
            job = job_view(settings, job_id)
            other = job.get("duplicate_of")
            target = other if job["status"] == JobStatus.SKIPPED and other else job_id
            state = _state(settings, target)
            if state == "running":
                continue
            if state == "orphaned":
                _run_one(settings, target, listener)  # its owner died: finish it here
                continue
            left.remove(job_id)
            finished(job_id, outcome(settings, job_id))
        if left:
            time.sleep(poll)


def _prepare_queries(settings: Settings) -> None:
    try:
        prepare_query_encoder(settings)
    except Exception as exc:  # noqa: BLE001 - searches still work, only slower to start
        log.warning("could not prepare the query encoder: %s", exc)


def _state(settings: Settings, job_id: int) -> str:
    """'finished', 'running' (a live owner has it) or 'orphaned' (nobody will finish it)."""
    with session_scope(settings) as session:
        job = find_job(session=session, job_id=job_id)
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
