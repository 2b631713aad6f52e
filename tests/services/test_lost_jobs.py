"""Served mode: which jobs no message will bring to an end, and sending them again: jobs never
sent, jobs a broker that restarted forgot, jobs whose worker died; the canary is set only once
everything was sent again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.exc import OperationalError

from core.db import session_scope
from core.job_claims import lost_jobs
from core.models import Job, JobStatus, utcnow
from core.settings import Settings
from services import ingest


@pytest.fixture
def served(catalog: Settings) -> Settings:
    return catalog.model_copy(update={"broker_url": "redis://127.0.0.1:1/0"})


def _job(settings: Settings, **values) -> int:
    with session_scope(settings) as s:
        job = Job(
            path=f"/v/{len(values)}-{id(values)}.mp4", status=JobStatus.QUEUED, stage="queued"
        )
        for k, v in values.items():
            setattr(job, k, v)
        s.add(job)
        s.flush()
        return job.id


def _lost(settings: Settings, *, forgot: bool = False) -> list[int]:
    with session_scope(settings) as s:
        return [j.id for j in lost_jobs(session=s, broker_forgot=forgot, grace_seconds=10)]


def test_jobs_no_message_will_finish_are_found(served):
    old = utcnow() - timedelta(minutes=5)
    never_sent = _job(served, created_at=old)
    just_queued = _job(served)  # whoever queued it is sending it now
    sent = _job(served, created_at=old, dispatched_at=old)
    dead_worker = _job(
        served,
        status=JobStatus.RUNNING,
        runner_host="elsewhere",
        runner_pid=1,
        lease_until=utcnow() - timedelta(seconds=1),
    )
    live_worker = _job(
        served,
        status=JobStatus.RUNNING,
        runner_host="elsewhere",
        runner_pid=1,
        lease_until=utcnow() + timedelta(seconds=60),
    )
    interrupted = _job(served, status=JobStatus.INTERRUPTED, created_at=old)
    done = _job(served, status=JobStatus.SUCCEEDED, created_at=old)
    assert _lost(served) == [never_sent, dead_worker, interrupted]
    # A broker that forgot its queues forgot every queued job's message.
    assert _lost(served, forgot=True) == [never_sent, just_queued, sent, dead_worker, interrupted]
    assert live_worker not in _lost(served, forgot=True) and done not in _lost(served, forgot=True)


def test_lost_jobs_are_sent_again_and_marked(served, monkeypatch):
    sent: list[int] = []
    monkeypatch.setattr(ingest, "send", lambda _task, job_id: sent.append(job_id))
    old = utcnow() - timedelta(minutes=5)
    never_sent = _job(served, created_at=old)
    dead = _job(
        served,
        status=JobStatus.RUNNING,
        runner_host="elsewhere",
        runner_pid=1,
        lease_until=utcnow() - timedelta(seconds=1),
    )
    assert ingest.recover_lost_jobs(served) == [never_sent, dead] == sent
    with session_scope(served) as s:
        for job_id in sent:
            job = s.get(Job, job_id)
            assert job.status == JobStatus.QUEUED and job.runner_pid is None
            assert job.dispatched_at is not None
    assert ingest.recover_lost_jobs(served) == []  # sent once: found again only if lost again


def test_an_unreachable_broker_leaves_the_job_queued_and_unsent(served, monkeypatch):
    def refuse(*_args):
        raise ConnectionError("broker down")

    monkeypatch.setattr(ingest, "send", refuse)
    job_id = _job(served)
    assert ingest.dispatch(served, [job_id]) == 0
    with session_scope(served) as s:
        assert s.get(Job, job_id).dispatched_at is None


def test_the_canary_is_set_only_after_a_sweep_that_sent_everything(served, monkeypatch):
    import core.queue as queue

    seen: list[str] = []
    monkeypatch.setattr(queue, "broker_forgot", lambda: True)
    monkeypatch.setattr(queue, "note_broker_seen", lambda: seen.append("set"))

    def down(*_args, **_kwargs):
        raise OperationalError("SELECT 1", {}, Exception("catalog restarting"))

    sweeper = ingest.LostJobSweeper(served, interval=1)
    monkeypatch.setattr(ingest, "recover_lost_jobs", down)
    with pytest.raises(OperationalError):
        sweeper.sweep()
    assert seen == []  # the next sweep still knows the broker forgot
    monkeypatch.setattr(ingest, "recover_lost_jobs", lambda *_a, **_k: [])
    sweeper.sweep()
    assert seen == ["set"]
