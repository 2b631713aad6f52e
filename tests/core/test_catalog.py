import pytest
from sqlalchemy import inspect, text

from core.db import SCHEMA_HEAD, get_engine, session_scope, upgrade_schema
from core.models import Event, Job, Segment, Summary, User, Video
from core.settings import Settings
from tests.catalog_helpers import add_ready_video

TABLES = {
    "videos",
    "video_paths",
    "segments",
    "jobs",
    "users",
    "events",
    "summaries",
    "alembic_version",
}


def _exercise(settings: Settings) -> None:
    vid = add_ready_video(settings, "a.mp4", ["hello", "world"])
    with session_scope(settings) as s:
        user = User(name="ana")
        s.add(user)
        s.flush()
        s.add(Event(user_id=user.id, video_id=vid, kind="completed", position=5.0))
        s.add(
            Summary(
                video_id=vid, model="extractive", method="extractive", content_hash="h", text="t"
            )
        )
        s.add(Job(path="/videos/a.mp4", video_id=vid))
    with session_scope(settings) as s:
        video = s.get(Video, vid)
        assert [seg.index for seg in video.segments] == [0, 1]
        assert video.size_bytes == 1000
        s.delete(video)
    with session_scope(settings) as s:
        # Deleting a video takes its segments, events and summaries with it.
        assert s.query(Segment).count() == 0
        assert s.query(Event).count() == 0
        assert s.query(Summary).count() == 0


def test_sqlite_catalog_has_every_table_and_cascades(settings):
    assert set(inspect(get_engine(settings)).get_table_names()) >= TABLES
    _exercise(settings)


@pytest.mark.postgres
def test_postgres_catalog_runs_the_same_code(tmp_path, pg_url):
    settings = Settings(home=tmp_path, database_url=pg_url)
    assert set(inspect(get_engine(settings)).get_table_names()) >= TABLES
    _exercise(settings)


@pytest.mark.postgres
def test_big_files_fit_the_size_column_on_postgres(tmp_path, pg_url):
    settings = Settings(home=tmp_path, database_url=pg_url)
    vid = add_ready_video(settings, "big.mp4", ["x"])
    with session_scope(settings) as s:
        s.get(Video, vid).size_bytes = 40 * 1024**3
    with session_scope(settings) as s:
        assert s.get(Video, vid).size_bytes == 40 * 1024**3


def test_migrations_run_again_as_a_no_op(settings):
    engine = get_engine(settings)
    upgrade_schema(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == SCHEMA_HEAD


def test_the_schema_head_the_fast_start_trusts_is_alembics_head(settings):
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from core.db import MIGRATIONS_DIR, SCHEMA_HEAD, at_head

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert ScriptDirectory.from_config(cfg).get_current_head() == SCHEMA_HEAD
    engine = get_engine(settings)
    assert at_head(engine)
    with engine.begin() as conn:  # a catalog one migration behind is upgraded, not trusted
        conn.execute(text("UPDATE alembic_version SET version_num = '0004'"))
    assert not at_head(engine)


def test_sqlite_catalog_uses_wal_so_processes_can_share_it(settings):
    with get_engine(settings).connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"


def test_the_ready_signature_moves_with_every_change_a_vector_reader_must_see(settings):
    from core.catalog import ready_signature

    def signature():
        with session_scope(settings) as s:
            return ready_signature(session=s)

    empty = signature()
    assert (empty.videos, empty.revisions) == (0, 0)
    vid = add_ready_video(settings, "a.mp4", ["hello"])
    one = signature()
    assert one.videos == 1 and one != empty
    add_ready_video(settings, "b.mp4", ["x"], status="processing", seed=1)
    assert signature() == one  # a video nobody may read yet changes nothing
    with session_scope(settings) as s:
        s.get(Video, vid).revision += 1  # re-ingested or swapped into a new embedding space
    bumped = signature()
    assert bumped.revisions == one.revisions + 1
    with session_scope(settings) as s:
        s.get(Video, vid).status = "failed"
    assert signature().videos == 0


def test_what_a_savepoint_held_is_rolled_back_with_its_session(catalog):
    # On SQLite a SAVEPOINT before any write used to open the transaction itself, so releasing
    # it committed: a user created on the way to a refused event outlived the rollback.
    with pytest.raises(RuntimeError), session_scope(catalog) as s:
        with s.begin_nested():
            s.add(User(name="ana"))
        assert s.query(User).count() == 1
        raise RuntimeError("the rest of the use case failed")
    with session_scope(catalog) as s:
        assert s.query(User).count() == 0
    with session_scope(catalog) as s, s.begin_nested():
        s.add(User(name="bob"))
    with session_scope(catalog) as s:
        assert [u.name for u in s.query(User)] == ["bob"]
