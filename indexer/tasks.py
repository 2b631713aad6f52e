"""The Celery app and its thin tasks: they take ids and call the pipeline."""

from __future__ import annotations

import logging

from celery import Celery
from celery.signals import worker_process_init

from core.errors import TransientError
from core.settings import get_settings

log = logging.getLogger(__name__)


def make_app() -> Celery:
    settings = get_settings()
    app = Celery("vidsearch", broker=settings.broker_url or "memory://", backend=None)
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        task_default_queue=settings.queue,
        # Acknowledge after the work: a worker killed mid-video leaves the message to be redelivered.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": settings.task_visibility_timeout},
        worker_hijack_root_logger=False,
    )
    return app


app = make_app()


@worker_process_init.connect
def _load_models_once(**_kwargs: object) -> None:
    # Each worker process loads its models once, before the first task, not per request.
    from indexer.pipeline import load_models

    settings = get_settings()
    models = load_models(settings)
    models.embedder.embed_text(["warm up"])


@app.task(
    name="vidsearch.ingest_video",
    bind=True,
    autoretry_for=(TransientError,),
    retry_backoff=2,
    retry_backoff_max=120,
    retry_jitter=True,
    max_retries=8,
)
def ingest_video(self, job_id: int) -> str:  # type: ignore[no-untyped-def]
    from indexer.pipeline import run_ingest_job

    settings = get_settings()
    index = _shared_index(settings)
    return run_ingest_job(job_id, settings=settings, index=index)


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
