"""run_job says what happened to a job (its status, its video, why it failed), so nobody has to
read the job back to learn it."""

from __future__ import annotations

from pathlib import Path

from core.catalog import create_job
from core.db import session_scope
from core.models import Job, JobStatus
from core.settings import Settings
from indexer.pipeline import IngestOutcome, run_ingest_job, run_job


def _job(settings: Settings, path: Path | str, **values: object) -> int:
    with session_scope(settings) as s:
        job = create_job(session=s, path=str(path))
        for key, value in values.items():
            setattr(job, key, value)
        return job.id


def test_an_empty_file_fails_its_job_and_the_outcome_says_why(catalog, tmp_path):
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    job_id = _job(catalog, empty)
    done = run_job(job_id, settings=catalog)
    assert (done.job_id, done.status, done.video_id) == (job_id, JobStatus.FAILED, None)
    assert done.error is not None and "empty file" in done.error and "empty.mp4" in done.error
    with session_scope(catalog) as s:
        assert s.get(Job, job_id).error == done.error


def test_a_job_that_ended_already_says_what_it_achieved_without_running_again(catalog):
    indexed = _job(catalog, "/nowhere/a.mp4", status=JobStatus.SUCCEEDED, video_id="a" * 16)
    failed = _job(catalog, "/nowhere/b.mp4", status=JobStatus.FAILED, error="b.mp4: empty file")
    # The files do not exist: a run that tried again would fail both for that reason instead.
    assert run_job(indexed, settings=catalog) == IngestOutcome(
        indexed, JobStatus.SUCCEEDED, "a" * 16, None
    )
    assert run_job(failed, settings=catalog) == IngestOutcome(
        failed, JobStatus.FAILED, None, "b.mp4: empty file"
    )


def test_run_ingest_job_answers_the_outcomes_status_alone(catalog, tmp_path):
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    assert run_ingest_job(_job(catalog, empty), settings=catalog) == JobStatus.FAILED
