"""The Celery app shared by every package's tasks (served mode; embedded mode runs work in-process)."""

from __future__ import annotations

from celery import Celery

from core.settings import get_settings

INGEST_TASK = "vidsearch.ingest_video"
SUMMARY_TASK = "vidsearch.summarize_video"
TASK_MODULES = ["indexer.tasks", "search.tasks"]


def make_app() -> Celery:
    settings = get_settings()
    app = Celery(
        "vidsearch", broker=settings.broker_url or "memory://", backend=None, include=TASK_MODULES
    )
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


def send(task_name: str, *args: object) -> None:
    """Queue a task by name (no import of the package that defines it)."""
    app.send_task(task_name, args=list(args), queue=get_settings().queue)
