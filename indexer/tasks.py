"""The Celery app and its thin tasks: they take ids and call the pipeline."""

from __future__ import annotations

import logging

from celery.signals import worker_process_init

from core.errors import TransientError
from core.queue import INGEST_TASK, SUMMARY_TASK, app, send
from core.settings import get_settings

log = logging.getLogger(__name__)

REEMBED_TASK = "vidsearch.reembed_video"


@worker_process_init.connect
def _load_models_once(**_kwargs: object) -> None:
    # Each worker process loads its models once, before the first task, not per request.
    from indexer.pipeline import load_models
    from indexer.reembed import reconcile_active_file

    settings = get_settings()
    try:
        reconcile_active_file(settings)  # a swap this machine's file never heard of
    except Exception as exc:  # the catalog may be down at start; tasks retry on their own
        log.warning("could not check the active model: %s", exc)
    models = load_models(settings)
    models.embedder.embed_text(["warm up"])


@app.task(
    name=INGEST_TASK,
    bind=True,
    autoretry_for=(TransientError,),
    retry_backoff=2,
    retry_backoff_max=120,
    retry_jitter=True,
    max_retries=8,
)
def ingest_video(self, job_id: int) -> str:  # type: ignore[no-untyped-def]
    from core.db import session_scope
    from core.models import Job
    from indexer.pipeline import run_ingest_job

    settings = get_settings()
    status = run_ingest_job(job_id, settings=settings, index=_shared_index(settings))
    if status == "succeeded" and settings.summaries_at_index:
        with session_scope(settings) as session:
            job = session.get(Job, job_id)
            video_id = job.video_id if job else None
        if video_id:
            # Its own task: a summary that fails must not fail (or redo) the ingest.
            send(SUMMARY_TASK, video_id)
    return status


@app.task(
    name=REEMBED_TASK,
    autoretry_for=(TransientError,),
    retry_backoff=2,
    retry_backoff_max=120,
    retry_jitter=True,
    max_retries=8,
)
def reembed_video(video_id: str, space: str) -> str:
    """One video's vectors in the pending space ``space``; the job that completes the library
    swaps the space in. Idempotent: a redelivered or stale task finds nothing to do."""
    from sqlalchemy.exc import OperationalError

    from indexer.reembed import reembed_video as reembed
    from indexer.reembed import try_swap

    settings = get_settings()
    try:
        status = reembed(settings, video_id, space=space)
        if status != "stale":
            swap = try_swap(settings, index=_shared_index(settings))
            if swap.swapped:
                log.info("video %s completed space %s: swapped in", video_id, space)
    except (OperationalError, ConnectionError, TimeoutError) as exc:
        raise TransientError(f"re-embed of {video_id}: {exc}") from exc
    return status


_index = None


def _shared_index(settings):  # type: ignore[no-untyped-def]
    """Workers sync a Qdrant server; the embedded index lives inside each reader process instead."""
    global _index
    if settings.qdrant_url is None:
        return None
    if _index is None:
        from core.vectors import VectorIndex

        _index = VectorIndex(settings)
    return _index
