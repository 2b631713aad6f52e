"""Ingest jobs as every front end shows them, what each achieved, and following jobs that run
elsewhere (the workers, another process) until they end."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from core.answers import JobView
from core.catalog import job_summary, list_jobs
from core.db import session_scope
from core.models import JobStatus
from core.settings import Settings

JobUpdate = Callable[[JobView], None]  # a job as job_summary shows it
OK = (JobStatus.SUCCEEDED, JobStatus.SKIPPED)


def job_view(settings: Settings, job_id: int) -> JobView:
    """One job as every front end shows it (LookupError when there is none)."""
    views = job_views(settings, [job_id])
    if not views:
        raise LookupError(f"no job {job_id}")
    return views[0]


def job_views(settings: Settings, job_ids: Sequence[int]) -> list[JobView]:
    with session_scope(settings) as session:
        return [job_summary(j) for j in list_jobs(session=session, job_ids=job_ids)]


def outcome(settings: Settings, job_id: int) -> str:
    """What a job achieved: its own status, except that a skipped duplicate achieved what the
    job it deferred to did (a failed original means this file is not indexed either)."""
    job = job_view(settings, job_id)
    other = job.get("duplicate_of")
    if job["status"] == JobStatus.SKIPPED and other:
        original = job_view(settings, other)["status"]
        return JobStatus.SKIPPED if original == JobStatus.SUCCEEDED else original
    return str(job["status"])


def all_succeeded(outcomes: Iterable[str]) -> bool:
    """Every file was indexed, or was indexed already."""
    return all(o in OK for o in outcomes)


@dataclass(frozen=True)
class Left:
    """What an interrupted run leaves for the next one."""

    interrupted: list[JobView]
    queued: list[JobView]


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


def originals_of_duplicates(settings: Settings, job_ids: Sequence[int]) -> list[int]:
    """The jobs that the skipped duplicates among ``job_ids`` deferred to (same bytes)."""
    originals = {
        v["duplicate_of"]
        for v in job_views(settings, job_ids)
        if v["status"] == JobStatus.SKIPPED and v["duplicate_of"]
    }
    return sorted(originals)
