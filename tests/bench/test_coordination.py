"""bench/coordination.py, CI-sized: four worker processes claim, heartbeat and commit jobs on the
real PostgreSQL and Redis through the product's own calls; every job is done exactly once and the
figures are printed."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from bench.coordination import main, report, run_round
from tests.conftest import PG_ADMIN_URL, require_service

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]
BENCH_REDIS_DB = 13  # the benchmark's own database number: other tests' queues are left alone


@pytest.fixture
def bench_redis(redis_url: str) -> str:
    return redis_url.rsplit("/", 1)[0] + f"/{BENCH_REDIS_DB}"


@pytest.fixture
def bench_pg() -> str:
    # The benchmark makes (and drops) a throwaway database of its own on this server.
    require_service("PostgreSQL", "127.0.0.1", 5432)
    return PG_ADMIN_URL


def test_four_workers_do_every_job_exactly_once(bench_pg, bench_redis):
    done = run_round(4, 12, heartbeats=2, segments=3, pg_admin=bench_pg, redis_url=bench_redis)
    table = report([done])
    assert done.problems == [], table
    assert Counter(r.job_id for r in done.records) == Counter(range(1, 13)), table
    assert done.not_ours == [] and done.summaries == 12, table
    assert all(r.claim_s > 0 and r.commit_s > 0 for r in done.records), table


def test_the_quick_run_prints_jobs_a_second_and_claim_latency(bench_pg, bench_redis, capsys):
    code = main(["--workers", "4", "--quick", "--json", "--pg", bench_pg, "--redis", bench_redis])
    out = capsys.readouterr().out
    assert code == 0, out
    row = json.loads(out.splitlines()[0])
    assert row["workers"] == 4 and row["jobs"] == 16 and row["exactly_once"] is True, out
    assert row["jobs_per_s"] > 0 and 0 < row["claim_p50_ms"] <= row["claim_p95_ms"], out
    header = out.splitlines()[1]
    assert "jobs/s" in header and "claim p95 ms" in header, out
