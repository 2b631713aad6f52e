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
        # A pool process loads its models before it says it is up (worker_process_init); on a
        # busy machine that takes well over Celery's default 4 s, and a pool that kills every
        # new process for being slow never runs a task.
        worker_proc_alive_timeout=300,
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": settings.task_visibility_timeout},
        worker_hijack_root_logger=False,
    )
    return app


def send(task_name: str, *args: object) -> None:
    """Queue a task by name (no import of the module that defines it)."""
    celery_app().send_task(task_name, args=list(args), queue=get_settings().queue)


def canary_key(queue: str) -> str:
    return f"vidsearch:broker-canary:{queue}"


def _broker_client():  # type: ignore[no-untyped-def]
    """A Redis client on the broker, or None for a broker that is not Redis."""
    url = get_settings().broker_url or ""
    if not url.startswith(("redis://", "rediss://", "unix://")):
        return None
    import redis  # celery[redis] brings it

    return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)


def broker_forgot() -> bool:
    """Whether the broker lost what it held since ``note_broker_seen`` was last called (a Redis
    restarted without persistence loses its queues, and the canary key with them; so does a
    first start). False for a broker that is not Redis (nothing to ask). Raises when the broker
    cannot be reached."""
    client = _broker_client()
    if client is None:
        return False
    try:
        return not client.exists(canary_key(get_settings().queue))
    finally:
        client.close()


def note_broker_seen() -> None:
    """Set the canary, once everything the broker may have lost was sent again."""
    client = _broker_client()
    if client is None:
        return
    try:
        client.set(canary_key(get_settings().queue), "1")
    finally:
        client.close()
