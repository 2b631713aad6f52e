"""Turning paths into ingest jobs, and handing the jobs to whoever runs them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from core.catalog import create_job
from core.db import session_scope
from core.settings import Settings

VIDEO_EXTENSIONS = frozenset(
    [
        ".mp4",
        ".m4v",
        ".mov",
        ".mkv",
        ".webm",
        ".avi",
        ".mpg",
        ".mpeg",
        ".m2ts",
        ".mts",
        ".ts",
        ".wmv",
        ".flv",
        ".3gp",
        ".ogv",
        ".vob",
        ".mxf",
    ]
)


def expand_paths(paths: Iterable[Path]) -> Iterator[Path]:
    """Files as given; folders walked recursively for video extensions, in a stable order.

    A path that does not exist is passed through so that its job fails with the reason.
    """
    seen: set[Path] = set()
    for path in paths:
        if path.is_dir():
            found = sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in VIDEO_EXTENSIONS
            )
        else:
            found = [path]
        for p in found:
            key = p.absolute()
            if key not in seen:
                seen.add(key)
                yield key


def create_jobs(paths: Iterable[Path], settings: Settings) -> list[int]:
    with session_scope(settings) as session:
        return [create_job(session=session, path=str(p)).id for p in paths]


def dispatch(job_ids: list[int], settings: Settings) -> None:
    """Send jobs to the Celery broker (served mode). Embedded mode runs them in-process instead."""
    if settings.embedded_tasks:
        raise RuntimeError("no broker configured (VIDSEARCH_BROKER_URL); run the jobs in-process")
    from core.queue import INGEST_TASK, send

    for job_id in job_ids:
        send(INGEST_TASK, job_id)
