"""A job's status has one writer, core/job_claims.py: no other module assigns a job's status,
sets it in an UPDATE, or sets it by name; and its transitions keep a job that is no longer
running as it is."""

from __future__ import annotations

import ast
from pathlib import Path

from core.catalog import create_job
from core.db import session_scope
from core.job_claims import end_job, finish_job, interrupt, record_progress
from core.models import Job, JobStatus
from core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("core", "videobert", "model_lifecycle", "indexer", "search", "recommender",
            "services", "api", "ui")  # fmt: skip
WRITER = Path("core/job_claims.py")


def _owner_name(node: ast.expr) -> str:
    """The last name of what a ``.status`` belongs to (``self.video`` -> ``video``)."""
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""


def status_writes(source: str) -> list[int]:
    """Lines that write a job's status: ``x.status = ...`` on anything that is not a video,
    ``.values(status=...)`` (an UPDATE) and ``setattr(x, "status", ...)``. A new row's starting
    status (``Job(status=...)``) is its creation, not a change."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for t in target.elts if isinstance(target, ast.Tuple) else [target]:
                    if (
                        isinstance(t, ast.Attribute)
                        and t.attr == "status"
                        and "video" not in _owner_name(t.value).lower()
                    ):
                        lines.append(node.lineno)
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr == "values":
                lines += [node.lineno for k in node.keywords if k.arg == "status"]
            if isinstance(func, ast.Name) and func.id == "setattr" and len(node.args) > 1:
                name = node.args[1]
                if isinstance(name, ast.Constant) and name.value == "status":
                    lines.append(node.lineno)
    return lines


def test_only_core_job_claims_writes_a_jobs_status():
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT)
            if rel == WRITER or "migrations" in rel.parts:
                continue
            found += [f"{rel}:{n}" for n in status_writes(path.read_text())]
    assert not found, "a job's status written outside core/job_claims.py:\n" + "\n".join(found)


def test_the_check_sees_each_kind_of_status_write():
    # The writer itself is seen writing, or the test above would pass whatever it scanned.
    assert status_writes((ROOT / WRITER).read_text())
    assert status_writes("job.status = 'failed'") == [1]
    assert status_writes("a.status, a.stage = s, 'x'") == [1]
    assert status_writes("session.execute(update(Job).values(status='queued'))") == [1]
    assert status_writes("setattr(job, 'status', s)") == [1]
    assert status_writes("video.status = VideoStatus.READY") == []
    assert status_writes("Job(path=p, status='queued')") == []


def _job(settings: Settings, **values: object) -> int:
    with session_scope(settings) as s:
        job = create_job(session=s, path="/v/a.mp4")
        for key, value in values.items():
            setattr(job, key, value)
        return job.id


def _read(settings: Settings, job_id: int) -> Job:
    with session_scope(settings) as s:
        job = s.get(Job, job_id)
        assert job is not None
        return job


def test_a_skipped_or_succeeded_job_reads_done_and_a_failed_one_keeps_its_progress(catalog):
    skipped, failed = _job(catalog, progress=0.2), _job(catalog, progress=0.2)
    with session_scope(catalog) as s:
        end_job(session=s, job_id=skipped, status=JobStatus.SKIPPED, note="already indexed")
        end_job(session=s, job_id=failed, status=JobStatus.FAILED, error="x.mp4: empty file")
        end_job(session=s, job_id=999_999, status=JobStatus.FAILED)  # gone: nothing to do
    done, broken = _read(catalog, skipped), _read(catalog, failed)
    assert (done.status, done.stage, done.progress, done.note) == (
        JobStatus.SKIPPED,
        "done",
        1.0,
        "already indexed",
    )
    assert done.finished_at is not None
    assert (broken.status, broken.progress, broken.error) == (
        JobStatus.FAILED,
        0.2,
        "x.mp4: empty file",
    )


def test_interrupting_and_progress_touch_only_a_running_job(catalog):
    running = _job(catalog, status=JobStatus.RUNNING, stage="sample")
    ended = _job(catalog, status=JobStatus.SUCCEEDED, stage="done", progress=1.0)
    with session_scope(catalog) as s:
        for job_id in (running, ended):
            record_progress(session=s, job_id=job_id, stage="embed", progress=0.8)
            interrupt(session=s, job_id=job_id, stage="embed", note="interrupted during embed")
    stopped, kept = _read(catalog, running), _read(catalog, ended)
    assert (stopped.status, stopped.stage, stopped.progress) == (
        JobStatus.INTERRUPTED,
        "embed",
        0.8,
    )
    assert stopped.note == "interrupted during embed" and stopped.lease_until is None
    assert (kept.status, kept.stage, kept.progress, kept.note) == (
        JobStatus.SUCCEEDED,
        "done",
        1.0,
        None,
    )


def test_finish_job_ends_a_job_in_the_callers_transaction(catalog):
    job_id = _job(catalog)
    with session_scope(catalog) as s:
        job = s.get(Job, job_id)
        assert job is not None
        finish_job(job, status=JobStatus.SUCCEEDED, note="3 segments")
    assert _read(catalog, job_id).status == JobStatus.SUCCEEDED
