"""Paths in, queued ingest jobs out; and the jobs that dead or interrupted runs left, taken
over instead of queued twice.

In the embedded mode every job has an owner, the process that will run it (core/job_claims.py):
the CLI that queued it, or the API or web UI process. What a dead or interrupted run left behind
(its job in hand and its queued jobs) is taken up by the next ingest, the next API start, or,
for the same paths, adopted instead of queued twice; a claim step makes sure that a CLI and an
API working on one library never run one job twice.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from pathlib import Path

from core.catalog import create_job
from core.db import session_scope
from core.job_claims import (
    adopt,
    current_owner,
    find_job,
    orphan_for_path,
    own_queued,
    resumable_jobs,
)
from core.settings import Settings
from indexer.paths import check_inside_roots, expand_paths

log = logging.getLogger(__name__)


class NothingToIngest(ValueError):
    """No video file under the given paths."""


def create_jobs(
    paths: Iterable[Path], settings: Settings, *, owned: bool = False, confined: bool = False
) -> list[int]:
    """One queued ingest job per file, in order; ``owned``: this process will run them;
    ``confined``: their files must lie under the HTTP roots when they run."""
    me = current_owner()
    with session_scope(settings) as session:
        ids = []
        for p in paths:
            job = create_job(session=session, path=str(p))
            job.confined = confined
            if owned:
                own_queued(job, me, lease_seconds=settings.stale_job_seconds)
            ids.append(job.id)
        return ids


def submit(settings: Settings, paths: Sequence[str | Path], *, confine: bool = False) -> list[int]:
    """Jobs for the given files and folders (walked recursively for video files).

    ``confine`` (HTTP requests): every path must lie inside the HTTP roots (the allowed roots,
    or ``home/videos`` when none are set, and the uploads folder; symlinks and ``..`` resolved),
    checked before any folder is walked, so a request cannot make the server crawl its disks
    (BadInput); each job checks its file again when it runs, so a symlink under a root that
    leads out of it fails its job with the reason. In the embedded mode the jobs belong to this
    process, and a job a dead run left for the same file is adopted rather than queued again.
    Raises NothingToIngest when no video file is found.
    """
    if confine:
        for p in paths:
            check_inside_roots(Path(p), settings.http_roots)
    files = list(expand_paths(Path(p) for p in paths))
    if not files:
        raise NothingToIngest("no video files found under the given paths")
    if not settings.embedded_tasks:
        return create_jobs(files, settings, confined=confine)
    ids = []
    for f in files:
        adopted = _adopt_orphan(settings, str(f))
        if adopted is None:
            adopted = create_jobs([f], settings, owned=True, confined=confine)[0]
        ids.append(adopted)
    return ids


def _adopt_orphan(settings: Settings, path: str) -> int | None:
    with session_scope(settings) as session:
        job = orphan_for_path(session=session, path=path)
        if job is not None and adopt(
            session=session, job=job, lease_seconds=settings.stale_job_seconds
        ):
            return job.id
    return None


def resume_orphans(settings: Settings) -> list[int]:
    """Take over what dead or interrupted runs left (embedded mode: their queued and running
    jobs; served mode: interrupted ones); returns the adopted job ids, oldest first."""
    adopted = []
    with session_scope(settings) as session:
        for job_id in resumable_jobs(session=session, embedded=settings.embedded_tasks):
            job = find_job(session=session, job_id=job_id)
            # Served: the adopted job goes back to the broker's queue, owned by no process.
            owner = True if settings.embedded_tasks else None
            if job is not None and adopt(
                session=session, job=job, lease_seconds=settings.stale_job_seconds, owner=owner
            ):
                adopted.append(job_id)
    if adopted:
        log.info("resuming %d job(s) a stopped run left: %s", len(adopted), adopted)
    return adopted
