"""The Celery app of the served mode, and the names of its tasks (the embedded mode runs work
in-process). Tasks are sent by name, so a sender never imports the module that runs them; the
tasks themselves register on this app in services/tasks.py, which workers import."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from core.settings import get_settings

if TYPE_CHECKING:
    from celery import Celery

INGEST_TASK = "vidsearch.ingest_video"
SUMMARY_TASK = "vidsearch.summarize_video"
REEMBED_TASK = "vidsearch.reembed_video"


@lru_cache(maxsize=1)
def celery_app() -> Celery:
    """The process's Celery app, made at first use (celery is imported only by processes that
    send or run tasks)."""
    from celery import Celery

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


def send(task_name: str, *args: object) -> None:
    """Queue a task by name (no import of the module that defines it)."""
    celery_app().send_task(task_name, args=list(args), queue=get_settings().queue)
