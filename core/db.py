"""Engine and session factory for the catalog; brings the schema to the newest migration once per process."""

from __future__ import annotations

import fcntl
import os
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from core.settings import Settings

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# The newest migration: a catalog already there needs no Alembic at all (importing it and
# reading every migration script costs a cold CLI call a few hundred milliseconds).
# tests/core/test_catalog.py checks that it names Alembic's head.
SCHEMA_HEAD = "0009"
_schema_lock = threading.Lock()

# What a catalog that cannot do the work right now raises (down, restarting, locked): callers
# that can answer from what they hold catch it under this name, without importing SQLAlchemy.
CatalogUnavailable = OperationalError


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    # WAL lets several processes (CLI, API, UI, workers) read while one writes.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _begin_before_savepoint(conn, _name) -> None:  # type: ignore[no-untyped-def]
    # pysqlite opens a transaction only before INSERT/UPDATE/DELETE, so a SAVEPOINT issued before
    # any write would itself start the transaction, and releasing it would COMMIT: whatever the
    # savepoint held would survive the session's rollback. Beginning first makes it nest.
    dbapi_conn = conn.connection.dbapi_connection
    if not dbapi_conn.in_transaction:
        dbapi_conn.execute("BEGIN")


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "savepoint", _begin_before_savepoint)
        return engine
    return create_engine(url, pool_pre_ping=True)


def upgrade_schema(engine: Engine) -> None:
    """Run Alembic migrations to head, serialised across processes that start together."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with _schema_lock:
        if engine.dialect.name == "postgresql":
            with engine.connect() as conn:
                # An advisory lock: two workers starting at once must not both create tables.
                conn.execute(text("SELECT pg_advisory_lock(727274)"))
                try:
                    cfg.attributes["connection"] = conn
                    command.upgrade(cfg, "head")
                    conn.commit()
                finally:
                    conn.execute(text("SELECT pg_advisory_unlock(727274)"))
                    conn.commit()
        else:
            db_path = engine.url.database
            lock_path = (
                Path(f"{db_path}.migrate.lock") if db_path and db_path != ":memory:" else None
            )
            lock_file = open(lock_path, "w") if lock_path else None  # noqa: SIM115
            try:
                if lock_file:
                    fcntl.flock(lock_file, fcntl.LOCK_EX)
                with engine.begin() as conn:
                    cfg.attributes["connection"] = conn
                    command.upgrade(cfg, "head")
            finally:
                if lock_file:
                    lock_file.close()


def schema_version(engine: Engine) -> str | None:
    """The migration the catalog's schema is at, by one query (raises when it has none)."""
    with engine.connect() as conn:
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return None if version is None else str(version)


def at_head(engine: Engine) -> bool:
    """Whether the catalog's schema is the newest, by one query (False when it is not there)."""
    try:
        return schema_version(engine) == SCHEMA_HEAD
    except Exception:  # noqa: BLE001 - no table yet, or any other reason: let Alembic decide
        return False


@lru_cache(maxsize=8)
def _engine_for(url: str) -> Engine:
    engine = make_engine(url)
    if not at_head(engine):
        upgrade_schema(engine)
    _engines.add(engine)
    return engine


def _forget_parent_connections() -> None:
    # A forked child (a Celery pool process, re-forked after one dies) inherits the parent's
    # pooled connections; two processes talking on one socket corrupt both sessions. The child
    # lets go of them without closing them (they are the parent's) and opens its own.
    for engine in list(_engines):
        engine.dispose(close=False)


_engines: weakref.WeakSet[Engine] = weakref.WeakSet()
os.register_at_fork(after_in_child=_forget_parent_connections)


def get_engine(settings: Settings) -> Engine:
    return _engine_for(settings.catalog_url)


def session_factory(settings: Settings) -> sessionmaker[Session]:
    return sessionmaker(bind=get_engine(settings), expire_on_commit=False)


@contextmanager
def session_scope(settings: Settings) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    session = session_factory(settings)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
