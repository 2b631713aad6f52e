"""Faults met by a serving process, with the real models: its index lost and rebuilt from the
catalog, the catalog (PostgreSQL) restarted under its searches, a full disk for thumbnails, and
a crash between the catalog commit and the sync of a served index. Each adds a row to the table."""

from __future__ import annotations

import time

import pytest

from core.settings import Settings
from tests.faults.harness import LEDGER, make_clips
from tests.faults.inprocess import (
    index_lost_while_serving,
    ingest_here,
    postgres_restarted_during_search,
    served_index_crash_between_commit_and_sync,
    thumbnails_disk_full,
)

pytestmark = [pytest.mark.slow, pytest.mark.real_models]


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    """Six indexed files (five videos, one of them under two names) and one that is not a video."""
    tmp = tmp_path_factory.mktemp("served-library")
    settings = Settings(home=tmp / "home", summaries_at_index=False)
    clips = make_clips(tmp / "media", 7, seed=11)
    ingest_here(settings, clips.folder)
    return settings, clips


@pytest.mark.parametrize("engine", ["numpy", "qdrant"])
def test_an_index_lost_while_serving_is_rebuilt_from_the_catalog(library, engine):
    settings, clips = library
    started = time.monotonic()
    faults, result, note = index_lost_while_serving(
        settings, clips, engine=engine, losses=3, rebuilds=1, seed=3
    )
    LEDGER.add(
        f"index lost while serving ({engine})", faults, result, time.monotonic() - started, note
    )
    assert result.ok(), result.explain()


def test_a_served_index_missed_by_a_crash_after_the_commit_is_synced_on_redelivery(tmp_path):
    settings = Settings(home=tmp_path / "home", summaries_at_index=False)
    started = time.monotonic()
    faults, result, note = served_index_crash_between_commit_and_sync(
        settings, tmp_path, videos=4, seed=21
    )
    LEDGER.add(
        "crash between commit and index sync (served)",
        faults,
        result,
        time.monotonic() - started,
        note,
    )
    assert faults >= 3 and result.ok(), result.explain()


def test_a_full_disk_for_thumbnails_fails_jobs_with_the_reason_and_leaves_nothing(tmp_path):
    settings = Settings(home=tmp_path / "home", summaries_at_index=False)
    started = time.monotonic()
    faults, result, note = thumbnails_disk_full(settings, tmp_path, videos=8, seed=31)
    LEDGER.add("full disk for thumbnails", faults, result, time.monotonic() - started, note)
    assert faults >= 1 and result.ok(), result.explain()


@pytest.mark.postgres
def test_postgres_restarted_during_search_costs_no_answer(private_pg, tmp_path):
    url = private_pg.create_database("search_restarts")
    settings = Settings(home=tmp_path / "home", database_url=url, summaries_at_index=False)
    clips = make_clips(tmp_path / "media", 5, seed=41)
    ingest_here(settings, clips.folder)
    started = time.monotonic()
    try:
        faults, result, note = postgres_restarted_during_search(
            settings, clips, private_pg, restarts=2, seed=5
        )
    finally:
        from core.db import _engine_for

        _engine_for.cache_clear()
    LEDGER.add("postgres restarted during search", faults, result, time.monotonic() - started, note)
    assert result.ok(), result.explain()
