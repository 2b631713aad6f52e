"""The catalog's one time type: every time column comes back aware and in UTC, on both backends,
and the database columns are the ones the migrations made."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import DateTime, select
from sqlalchemy.dialects import postgresql, sqlite

from core.db import session_scope
from core.models import Base, Job, UTCDateTime, as_utc

PLUS_TWO = timezone(timedelta(hours=2))


def test_every_time_column_of_the_catalog_is_read_through_the_utc_type():
    bare = [
        f"{table.name}.{column.name}"
        for table in Base.metadata.tables.values()
        for column in table.columns
        if isinstance(column.type, DateTime)
    ]
    assert not bare, bare
    timed = [
        column
        for table in Base.metadata.tables.values()
        for column in table.columns
        if isinstance(column.type, UTCDateTime)
    ]
    assert len(timed) >= 10


def test_the_utc_type_keeps_the_columns_the_migrations_made():
    assert str(UTCDateTime().compile(dialect=postgresql.dialect())) == "TIMESTAMP WITH TIME ZONE"
    assert str(UTCDateTime().compile(dialect=sqlite.dialect())) == "DATETIME"


def test_a_naive_time_is_taken_as_utc_and_an_aware_one_moved_to_utc():
    assert as_utc(datetime(2026, 1, 2, 3, 4)) == datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    moved = as_utc(datetime(2026, 1, 2, 5, 4, tzinfo=PLUS_TWO))
    assert moved.utcoffset() == timedelta(0) and moved == datetime(2026, 1, 2, 3, 4, tzinfo=UTC)


def test_times_come_back_aware_in_utc_and_as_the_same_instant(catalog):
    written = datetime(2026, 3, 4, 12, 0, tzinfo=PLUS_TWO)  # 10:00 UTC
    with session_scope(catalog) as session:
        job = Job(path="/v/a.mp4", lease_until=written)
        session.add(job)
        session.flush()
        job_id = job.id
    with session_scope(catalog) as session:
        job = session.get(Job, job_id)
        assert job is not None
        for ts in (job.lease_until, job.created_at):
            assert ts is not None and ts.tzinfo is not None and ts.utcoffset() == timedelta(0)
        assert job.lease_until == written
        assert job.lease_until.hour == 10


def test_a_time_compared_in_sql_is_compared_as_an_instant(catalog):
    with session_scope(catalog) as session:
        session.add(Job(path="/v/a.mp4", lease_until=datetime(2026, 3, 4, 10, 30, tzinfo=UTC)))
    # 11:00 at +02:00 is 09:00 UTC: before the lease, though its wall time is later.
    before = datetime(2026, 3, 4, 11, 0, tzinfo=PLUS_TWO)
    with session_scope(catalog) as session:
        leased = session.scalars(select(Job.path).where(Job.lease_until > before)).all()
    assert leased == ["/v/a.mp4"]
