"""Who runs a job, whether that owner is still alive, taking a job over, and every change of a
job's status: this module is the one writer of ``jobs.status`` (a new job starts queued).

A job records its owner: host, process id and the process's start time. On the same host a
dead owner is seen at once (its process is gone, or the pid now belongs to a process that started
later); an owner on another host holds a short lease (``stale_job_seconds``) that it renews while
work goes on, and is taken as dead when the lease runs out. Claiming is a compare-and-swap on the
job row (the owner it had, its status and attempts), so two processes racing for one job never
both win, on SQLite or PostgreSQL, without holding locks across the check.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.models import Job, JobStatus, utcnow


@dataclass(frozen=True)
class Owner:
    host: str
    pid: int
    started: int | None  # process start time (clock ticks after boot); None where unknown


def _proc_stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (Linux), or None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read().decode(errors="replace")
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: fields start after the last ')'.
    return stat.rsplit(")", 1)[-1].split()


def process_start_time(pid: int) -> int | None:
    """The process's start time in clock ticks after boot (Linux /proc), or None."""
    fields = _proc_stat(pid)
    try:
        return int(fields[19]) if fields else None  # field 22 overall: starttime
    except (IndexError, ValueError):
        return None


@lru_cache(maxsize=1)
def _hostname() -> str:
    return socket.gethostname()


def current_owner() -> Owner:
    """This process (a forked worker child is its own owner: its pid and start time differ)."""
    pid = os.getpid()
    return Owner(_hostname(), pid, process_start_time(pid))


def process_alive(pid: int, started: int | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process: it exists
    fields = _proc_stat(pid)
    if fields and fields[0] in ("Z", "X"):
        return False  # killed, waiting for its parent to collect it: it runs nothing
    if started is None:
        return True
    now_started = process_start_time(pid)
    return now_started is None or now_started == started  # a reused pid started later


def owner_of(job: Job) -> Owner | None:
    if job.runner_host is None or job.runner_pid is None:
        return None
    return Owner(job.runner_host, job.runner_pid, job.runner_started)


def owner_alive(job: Job, *, now: datetime | None = None) -> bool:
    """Whether the job's owner is still there to finish it (False when it has none).

    A running job needs a current lease too: an owner that stopped working on it (a retry
    handed to another worker, a thread that died) stops renewing, and the job is free again
    within ``stale_job_seconds`` even though the process lives on. A queued job waits for its
    owner as long as that process lives (on this host; elsewhere, as long as its lease)."""
    owner = owner_of(job)
    if owner is None:
        return False
    lease = job.lease_until
    leased = lease is not None and lease > (now or utcnow())
    if owner.host != _hostname():
        return leased
    if not process_alive(owner.pid, owner.started):
        return False
    return leased or job.status != JobStatus.RUNNING


def is_mine(job: Job, me: Owner | None = None) -> bool:
    return owner_of(job) == (me or current_owner())


def release(*, session: Session, job_id: int, status: str = JobStatus.QUEUED) -> None:
    """Give a job up without finishing it (a transient fault: the task queue retries it, maybe
    on another worker), so whoever runs it next can claim it at once."""
    session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == JobStatus.RUNNING)
        .values(
            status=status, lease_until=None, runner_host=None, runner_pid=None, runner_started=None
        )
        .execution_options(synchronize_session=False)
    )


def job_is_alive(job: Job) -> bool:
    """A job that will still end on its own: queued for the workers (no owner: it is the
    broker's), or queued, running or interrupted under a live owner."""
    if job.status in JobStatus.FINISHED:
        return False
    if job.status == JobStatus.QUEUED and owner_of(job) is None:
        return True
    return owner_alive(job)


def shown_status(job: Job) -> str:
    """The status a person should see: a job whose owner died mid-way is not 'running'."""
    if job.status == JobStatus.RUNNING and not owner_alive(job):
        return JobStatus.INTERRUPTED
    return job.status


def lease_from(now: datetime, lease_seconds: float) -> datetime:
    return now + timedelta(seconds=lease_seconds)


def own_queued(job: Job, me: Owner, *, lease_seconds: float) -> None:
    """Mark a new queued job as this process's to run (the embedded mode's runners)."""
    job.runner_host, job.runner_pid, job.runner_started = me.host, me.pid, me.started
    job.lease_until = lease_from(utcnow(), lease_seconds)


def claim(
    *,
    session: Session,
    job_id: int,
    lease_seconds: float,
    me: Owner | None = None,
    stage: str | None = None,
) -> Job | None:
    """Take the job to run it now: a queued, interrupted or running job whose owner is this
    process, nobody, or dead. Returns the job (status running, attempts counted, in ``stage``
    when one is given) or None when it has ended or a live owner holds it. The caller's
    transaction commits the claim."""
    me = me or current_owner()
    job = session.get(Job, job_id, populate_existing=True)
    if job is None:
        raise LookupError(f"job {job_id} does not exist")
    if job.status not in JobStatus.RESUMABLE:
        return None
    if not is_mine(job, me) and owner_alive(job):
        return None
    now = utcnow()
    won = session.execute(
        update(Job)
        .where(
            Job.id == job_id,
            Job.status == job.status,
            Job.attempts == job.attempts,
            _same(Job.runner_pid, job.runner_pid),
            _same(Job.runner_host, job.runner_host),
        )
        .values(
            status=JobStatus.RUNNING,
            attempts=Job.attempts + 1,
            runner_host=me.host,
            runner_pid=me.pid,
            runner_started=me.started,
            lease_until=lease_from(now, lease_seconds),
            started_at=now,
            heartbeat_at=now,
            error=None,
        )
        .execution_options(synchronize_session=False)
    )
    if won.rowcount != 1:  # type: ignore[attr-defined]
        return None  # another process took it between our read and our write
    claimed = session.get(Job, job_id, populate_existing=True)
    if claimed is not None and stage is not None:
        claimed.stage = stage
    return claimed


def _same(column, value):  # type: ignore[no-untyped-def]
    return column.is_(None) if value is None else column == value


def renew(*, session: Session, job_id: int, lease_seconds: float, me: Owner | None = None) -> bool:
    """Extend this process's lease on a running job; False when it is no longer ours."""
    me = me or current_owner()
    now = utcnow()
    done = session.execute(
        update(Job)
        .where(
            Job.id == job_id,
            Job.status == JobStatus.RUNNING,
            Job.runner_host == me.host,
            Job.runner_pid == me.pid,
        )
        .values(lease_until=lease_from(now, lease_seconds), heartbeat_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(done.rowcount)  # type: ignore[attr-defined]


def adopt(
    *, session: Session, job: Job, lease_seconds: float, owner: Owner | None | bool = True
) -> bool:
    """Queue again a job a dead run left, for this process to run (``owner`` True), for a
    given owner, or for nobody (``None``: the task queue's); False when another process adopted
    or claimed it first."""
    me = current_owner() if owner is True else (owner or None)
    won = session.execute(
        update(Job)
        .where(
            Job.id == job.id,
            Job.status == job.status,
            Job.attempts == job.attempts,
            _same(Job.runner_pid, job.runner_pid),
            _same(Job.runner_host, job.runner_host),
        )
        .values(
            status=JobStatus.QUEUED,
            runner_host=me.host if me else None,
            runner_pid=me.pid if me else None,
            runner_started=me.started if me else None,
            lease_until=lease_from(utcnow(), lease_seconds) if me else None,
        )
        .execution_options(synchronize_session=False)
    )
    return won.rowcount == 1  # type: ignore[attr-defined,no-any-return]


def resumable_jobs(*, session: Session, embedded: bool, kind: str = "ingest") -> list[int]:
    """Jobs a dead run left behind, oldest first: interrupted ones and, in the embedded mode,
    queued or running ones whose owner is gone (served mode leaves queued jobs to the broker,
    which redelivers what a dead worker held)."""
    statuses = JobStatus.RESUMABLE if embedded else (JobStatus.INTERRUPTED,)
    rows = session.scalars(
        select(Job).where(Job.kind == kind, Job.status.in_(statuses)).order_by(Job.id)
    )
    return [j.id for j in rows if not owner_alive(j)]


def orphan_for_path(*, session: Session, path: str) -> Job | None:
    """A job for this path that a dead run left (to adopt instead of queueing a second one)."""
    rows = session.scalars(
        select(Job)
        .where(Job.path == path, Job.status.in_(JobStatus.RESUMABLE))
        .order_by(Job.id.desc())
    )
    return next((j for j in rows if not owner_alive(j)), None)


def mark_dispatched(*, session: Session, job_id: int) -> None:
    """Served mode: the job was handed to the task queue now."""
    session.execute(
        update(Job)
        .where(Job.id == job_id)
        .values(dispatched_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def lost_jobs(
    *, session: Session, broker_forgot: bool, grace_seconds: float, kind: str = "ingest"
) -> list[Job]:
    """Served mode: jobs no message will bring to an end, oldest first. Running ones whose
    owner died or stopped renewing its lease, interrupted ones, queued ones never sent (older
    than ``grace_seconds``: whoever queued them may be sending them now), and, when the broker
    lost its queues (``broker_forgot``), every queued job the broker was to deliver."""
    now = utcnow()
    rows = session.scalars(
        select(Job).where(Job.kind == kind, Job.status.in_(JobStatus.RESUMABLE)).order_by(Job.id)
    )
    lost = []
    for job in rows:
        if job.status == JobStatus.QUEUED:
            if owner_of(job) is not None:
                continue  # an embedded-mode runner's, not the broker's
            created = job.created_at
            unsent = job.dispatched_at is None and (
                created is None or (now - created).total_seconds() > grace_seconds
            )
            if broker_forgot or unsent:
                lost.append(job)
        elif not owner_alive(job, now=now):
            lost.append(job)
    return lost


def find_job(*, session: Session, job_id: int) -> Job | None:
    """The job as the catalog has it now (None when there is none)."""
    return session.get(Job, job_id)


def load_job(*, session: Session, job_id: int) -> Job:
    """The job as the catalog has it now (LookupError when there is none)."""
    job = session.get(Job, job_id)
    if job is None:
        raise LookupError(f"job {job_id} does not exist")
    return job


def record_progress(*, session: Session, job_id: int, stage: str, progress: float) -> None:
    """A running job's stage and overall progress, and a heartbeat; a job that is no longer
    running (it was interrupted, or another process took it) is left as it is."""
    job = session.get(Job, job_id)
    if job is not None and job.status == JobStatus.RUNNING:
        job.stage, job.progress, job.heartbeat_at = stage, progress, utcnow()


def finish_job(job: Job, *, status: str, note: str | None = None, error: str | None = None) -> None:
    """End a job in the caller's transaction: succeeded, skipped or failed, with why."""
    job.status = status
    job.note = note
    job.error = error
    job.finished_at = utcnow()
    if status in (JobStatus.SUCCEEDED, JobStatus.SKIPPED):
        # Nothing is left to do for either: a skipped job is not stuck at 0 %.
        job.progress = 1.0
        job.stage = "done"


def end_job(
    *, session: Session, job_id: int, status: str, note: str | None = None, error: str | None = None
) -> None:
    """End the job with this id (see finish_job); a job that is gone is left gone."""
    job = session.get(Job, job_id)
    if job is not None:
        finish_job(job, status=status, note=note, error=error)


def interrupt(*, session: Session, job_id: int, stage: str, note: str) -> None:
    """A running job stopped part way by a person: it reads interrupted (resumable) in the
    stage it was in, and its lease ends so the next run can take it up at once."""
    job = session.get(Job, job_id)
    if job is not None and job.status == JobStatus.RUNNING:
        job.status = JobStatus.INTERRUPTED
        job.stage = stage
        job.note = note
        job.lease_until = None
