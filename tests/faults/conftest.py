"""The fault suite's servers of its own (a PostgreSQL cluster and a Redis it may restart without
disturbing anyone) and the table it prints at the end of the run."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from tests.conftest import require
from tests.faults.harness import LEDGER, PrivatePostgres, PrivateRedis, can_run_private_postgres


@pytest.fixture(scope="session")
def private_pg() -> Iterator[PrivatePostgres]:
    why = can_run_private_postgres()
    require(why is None, f"a private PostgreSQL cluster: {why}")
    pg = PrivatePostgres()
    try:
        yield pg
    finally:
        pg.close()


@pytest.fixture(scope="session")
def private_redis() -> Iterator[PrivateRedis]:
    require(shutil.which("redis-server") is not None, "redis-server is not installed")
    redis = PrivateRedis()
    try:
        yield redis
    finally:
        redis.close()


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # type: ignore[no-untyped-def]
    if LEDGER.rows:
        terminalreporter.section("fault injection: what each fault cost")
        terminalreporter.write_line(LEDGER.table())
