"""Migration 0003 on both backends: existing users and events survive it, and it can be undone."""

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, inspect, text

from core.db import MIGRATIONS_DIR, make_engine


def _migrate(engine: Engine, revision: str, *, down: bool = False) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(cfg, revision)


def _roundtrip(engine: Engine) -> int:
    """Up to 0002 with a user and an event, up to 0003 (checked), back down to 0002; returns how
    many events are left at the end."""
    _migrate(engine, "0002")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO videos (id, content_hash, source_path, title, size_bytes, has_audio,"
                " has_speech, status, revision, created_at, updated_at) VALUES ('v1', 'h1',"
                " '/v/a.mp4', 'a', 1, false, false, 'ready', 1, CURRENT_TIMESTAMP,"
                " CURRENT_TIMESTAMP)"
            )
        )
        conn.execute(text("INSERT INTO users (name, created_at) VALUES ('ana', CURRENT_TIMESTAMP)"))
        conn.execute(
            text(
                "INSERT INTO events (user_id, video_id, kind, position, created_at)"
                " SELECT id, 'v1', 'started', 1.5, CURRENT_TIMESTAMP FROM users"
            )
        )
    _migrate(engine, "0003")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT name, role, token_hash FROM users")).one() == (
            "ana",
            "user",
            None,
        )
        assert conn.execute(text("SELECT kind, position, client_event_id FROM events")).one() == (
            "started",
            1.5,
            None,
        )
    unique = {i["name"] for i in inspect(engine).get_indexes("events") if i["unique"]}
    assert "uq_events_user_client_event" in unique
    _migrate(engine, "0002", down=True)
    inspector = inspect(engine)
    assert "token_hash" not in {c["name"] for c in inspector.get_columns("users")}
    assert "client_event_id" not in {c["name"] for c in inspector.get_columns("events")}
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM events")).scalar() or 0)


def test_sqlite_migration_keeps_existing_users_and_events_and_can_be_undone(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'catalog.db'}")
    # Foreign keys are on (core.db): a downgrade that copied `users` would cascade into events.
    assert _roundtrip(engine) == 1


@pytest.mark.postgres
def test_postgres_migration_keeps_existing_users_and_events_and_can_be_undone(pg_url):
    engine = make_engine(pg_url)
    try:
        assert _roundtrip(engine) == 1
    finally:
        engine.dispose()
