"""Faults met by real processes: Celery workers SIGKILLed at random moments (pool processes and
whole workers) and crashing between the catalog commit and the index sync, Redis and PostgreSQL
restarted under them, while an API searches; an API stopped with jobs queued and started again
beside a CLI; `vidsearch ingest` crashing right after a commit. Short runs for CI: bench/faults.py
runs the same scenarios at length."""

from __future__ import annotations

import signal
import time

import pytest

from tests.faults.harness import LEDGER
from tests.faults.scenarios import (
    api_stopped_and_resumed,
    chaos_round,
    crash_after_commit,
    served_stack,
)

pytestmark = [pytest.mark.slow, pytest.mark.real_models]


@pytest.mark.postgres
@pytest.mark.redis
def test_killed_workers_and_restarted_broker_and_database_lose_nothing(
    private_pg, private_redis, tmp_path
):
    started = time.monotonic()
    with served_stack(tmp_path, private_pg, private_redis) as stack:
        faults, result, note = chaos_round(
            stack,
            videos=20,
            kills=4,
            redis_restarts=1,
            pg_restarts=1,
            crash_after_commits=4,
            seed=1,
            timeout=300,
        )
        logs = stack.workers.logs()[-4000:]
    LEDGER.add(
        "served: 20 ingests; kills, broker + db restarts",
        faults,
        result,
        time.monotonic() - started,
        note,
    )
    assert result.ok(), result.explain() + "\n" + logs
    assert faults >= 4, note


def test_jobs_a_killed_api_left_are_resumed_beside_a_cli_each_once(tmp_path):
    started = time.monotonic()
    faults, result, note = api_stopped_and_resumed(tmp_path, videos=6, seed=2, sig=signal.SIGKILL)
    LEDGER.add(
        "embedded: API killed, resumed beside a CLI",
        faults,
        result,
        time.monotonic() - started,
        note,
    )
    assert result.ok(), result.explain()


def test_a_crash_between_the_commit_and_anything_after_it_loses_nothing(tmp_path):
    started = time.monotonic()
    faults, result, note = crash_after_commit(tmp_path, videos=4, crashes=1, seed=3)
    LEDGER.add(
        "embedded: CLI crashes after a commit", faults, result, time.monotonic() - started, note
    )
    assert faults == 1 and result.ok(), result.explain()
