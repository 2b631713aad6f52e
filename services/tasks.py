"""The Celery front end of the served mode: thin tasks that take ids and call the use cases,
registered on the app of core/queue.py. ``vidsearch worker`` imports this module and runs it."""

from __future__ import annotations

import logging

from celery.signals import worker_process_init, worker_ready, worker_shutdown

from core.errors import TransientError
from core.models import JobStatus
from core.queue import INGEST_TASK, REEMBED_TASK, SUMMARY_TASK, celery_app
from core.settings import get_settings
from core.transient import UNREACHABLE
from services.ingest import LostJobSweeper
from services.job_runs import ingest_on_worker
from services.model_switch import queue_video_if_switching
from services.root import Services, process_services
from services.summaries import summary_for
from services.training import reembed_one_video

log = logging.getLogger(__name__)
app = celery_app()
RETRY = {
    "autoretry_for": (TransientError,),
    "retry_backoff": 2,
    "retry_backoff_max": 120,
    "retry_jitter": True,
    # A transient fault (catalog, broker or index unreachable) is retried until it passes, every
    # two minutes at most: a task that gave up would leave its job queued with nothing to run it.
    "max_retries": None,
}


def worker_services() -> Services:
    """This worker process's services (services/root.py), made once."""
    return process_services(get_settings())


@worker_process_init.connect
def _load_models_once(**_kwargs: object) -> None:
    # Each worker process loads its models once, before the first task, not per request.
    worker_services().warm_up_worker()


_sweeper: LostJobSweeper | None = None


@worker_ready.connect
def _start_sweeping(**_kwargs: object) -> None:
    # In the worker's main process: jobs whose messages a dead worker or a restarted broker
    # lost are sent again (services.ingest.recover_lost_jobs).
    global _sweeper
    _sweeper = LostJobSweeper(get_settings())
    _sweeper.start()


@worker_shutdown.connect
def _stop_sweeping(**_kwargs: object) -> None:
    if _sweeper is not None:
        _sweeper.stop()


@app.task(name=INGEST_TASK, **RETRY)
def ingest_video(job_id: int) -> str:
    try:
        # The summary, when the settings ask for one, is a task of its own (sent from there).
        done = ingest_on_worker(get_settings(), job_id, store=worker_services().shared_store)
        if done.status == JobStatus.SUCCEEDED and done.video_id:
            # During a switch to another vision model the commit wrote only the active space:
            # this video's re-embed goes in the queue beside the others'.
            queue_video_if_switching(get_settings(), done.video_id)
    except UNREACHABLE as exc:
        # Outside the pipeline's own handling (claiming the job): the catalog is restarting;
        # retried like any transient fault, never a task lost.
        raise TransientError(f"ingest job {job_id}: {exc}") from exc
    return done.status


@app.task(name=SUMMARY_TASK, autoretry_for=(TransientError,), retry_backoff=2, max_retries=5)
def summarize_video(video_id: str) -> str:
    try:
        return summary_for(worker_services(), video_id).method
    except UNREACHABLE as exc:
        raise TransientError(f"summary of {video_id}: {exc}") from exc


@app.task(name=REEMBED_TASK, **RETRY)
def reembed_one(video_id: str, space: str) -> str:
    """One video's vectors in the pending space ``space``; the task that completes the library
    swaps the space in. Idempotent: a redelivered or stale task finds nothing to do."""
    try:
        status = reembed_one_video(
            get_settings(), video_id, space=space, store=worker_services().shared_store
        )
    except UNREACHABLE as exc:
        raise TransientError(f"re-embed of {video_id}: {exc}") from exc
    return status
