from __future__ import annotations

import pytest
from qdrant_client import QdrantClient

from core.db import session_scope
from core.errors import TransientError
from core.settings import Settings
from core.vectors import open_vector_store


def test_the_ingest_task_acknowledges_late_and_retries_only_transient_faults():
    from core.queue import celery_app
    from services.tasks import ingest_video

    app = celery_app()
    assert app.conf.task_acks_late and app.conf.task_reject_on_worker_lost
    assert app.conf.worker_prefetch_multiplier == 1
    assert ingest_video.autoretry_for == (TransientError,)
    # A transient fault retries until it passes (backing off to two minutes): a task that gave
    # up would leave its job queued with nothing to run it.
    assert ingest_video.retry_backoff and ingest_video.max_retries is None
    assert ingest_video.retry_backoff_max == 120
    # A pool process loading its models is not killed for being slow to start.
    assert app.conf.worker_proc_alive_timeout >= 60


def test_doctor_passes_on_the_embedded_default(cli):
    code, out = cli("doctor", "--json")
    checks = {c["name"]: c for c in out[0]["checks"]}
    assert code == 0, checks
    assert "in-process" in checks["task queue"]["detail"]
    assert (
        "all-MiniLM" in checks["text model"]["detail"]
        or "minilm" in checks["text model"]["detail"].lower()
    )


def test_doctor_names_an_unreachable_broker(tmp_path, monkeypatch):
    from services.doctor import run_checks

    settings = Settings(home=tmp_path, broker_url="redis://127.0.0.1:1/0")
    checks = {c["name"]: c for c in run_checks(settings)}
    assert not checks["task queue"]["ok"]


def test_every_command_of_the_design_is_built_and_an_unknown_one_is_refused(capsys):
    from ui.cli import build_parser

    parser = build_parser()
    for command in ("ingest", "search", "summary", "event", "recommend", "ui", "worker", "api"):
        assert parser.parse_args([command, *_args(command)]).func is not None
    with pytest.raises(SystemExit):
        parser.parse_args(["no-such-command"])
    assert "invalid choice" in capsys.readouterr().err


def _args(command: str) -> list[str]:
    return {
        "ingest": ["x"],
        "search": ["q"],
        "summary": ["v"],
        "event": ["--user", "u", "--video", "v", "--kind", "liked"],
        "recommend": ["--user", "u"],
    }.get(command, [])


@pytest.mark.real_models
def test_a_job_retried_after_its_commit_still_syncs_the_index(settings, make_clip):
    from indexer.pipeline import run_ingest_job
    from services.ingest import create_jobs

    clip = make_clip("a.mp4", [2.0])
    (job_id,) = create_jobs([clip], settings)
    assert (
        run_ingest_job(job_id, settings=settings) == "succeeded"
    )  # committed, but no index synced
    # The same job comes back (a retry after the index was unreachable): it must sync the index.
    store = open_vector_store(settings, client=QdrantClient(":memory:"))
    assert run_ingest_job(job_id, settings=settings, store=store) == "succeeded"
    with session_scope(settings) as s:
        from core.models import Segment

        assert store.count() == s.query(Segment).count() >= 1
