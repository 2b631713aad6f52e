from qdrant_client import QdrantClient

from core.db import session_scope
from core.models import Video
from core.vectors import VectorIndex, point_id
from tests.catalog_helpers import add_ready_video


def _index(settings):
    return VectorIndex(settings, client=QdrantClient(":memory:"))


def test_point_ids_are_deterministic_per_video_and_segment():
    assert point_id("abc", 0) == point_id("abc", 0)
    assert point_id("abc", 0) != point_id("abc", 1) != point_id("abd", 0)


def test_sync_from_the_catalog_is_idempotent(settings):
    add_ready_video(settings, "a.mp4", ["a red car", "a blue boat"])
    add_ready_video(settings, "b.mp4", ["espresso"], seed=1)
    index = _index(settings)
    with session_scope(settings) as s:
        first = index.sync_from_catalog(s)
        second = index.sync_from_catalog(s)
    assert (first.upserted, first.total) == (3, 3)
    assert (second.upserted, second.deleted, second.total) == (0, 0, 3)


def test_videos_not_ready_are_not_indexed(settings):
    add_ready_video(settings, "a.mp4", ["x"], status="processing")
    index = _index(settings)
    with session_scope(settings) as s:
        assert index.sync_from_catalog(s).total == 0


def test_rebuild_gives_the_same_points_as_incremental_sync(settings):
    incremental, rebuilt = _index(settings), _index(settings)
    ids = []
    for i, name in enumerate(["a.mp4", "b.mp4", "c.mp4"]):
        ids.append(
            add_ready_video(settings, name, [f"caption {name} {j}" for j in range(i + 1)], seed=i)
        )
        with session_scope(settings) as s:
            incremental.sync_video(s, ids[-1])
    with session_scope(settings) as s:
        rebuilt.rebuild_from_catalog(s)
    assert incremental.points() == rebuilt.points()
    assert len(rebuilt.points()) == 6


def test_a_new_revision_replaces_points_and_drops_segments_that_are_gone(settings):
    vid = add_ready_video(settings, "a.mp4", ["one", "two", "three"])
    index = _index(settings)
    with session_scope(settings) as s:
        index.sync_from_catalog(s)
    with session_scope(settings) as s:
        video = s.get(Video, vid)
        s.delete(video.segments[-1])
        video.revision += 1
    with session_scope(settings) as s:
        report = index.sync_from_catalog(s)
    assert (report.upserted, report.deleted, report.total) == (2, 1, 2)
    assert {p["payload"]["revision"] for p in index.points().values()} == {2}


def test_deleted_videos_leave_the_index(settings):
    vid = add_ready_video(settings, "a.mp4", ["one", "two"])
    index = _index(settings)
    with session_scope(settings) as s:
        index.sync_from_catalog(s)
        s.delete(s.get(Video, vid))
    with session_scope(settings) as s:
        assert index.sync_video(s, vid).total == 0


def test_lexical_search_finds_the_keyword(settings):
    add_ready_video(settings, "a.mp4", ["a red car drives", "the espresso machine hisses"])
    add_ready_video(settings, "b.mp4", ["a blue boat"], seed=2)
    index = _index(settings)
    with session_scope(settings) as s:
        index.sync_from_catalog(s)
    hits = index.search_lexical("Espresso!", limit=5)
    assert len(hits) == 1 and hits[0].payload["text"] == "the espresso machine hisses"
    assert index.search_lexical("the of", limit=5) == []


def test_a_collection_of_other_sizes_is_refused_with_the_sizes(settings):
    index = _index(settings)
    index.ensure_collection(8, 8)
    import pytest

    with pytest.raises(ValueError, match="rebuild"):
        index.ensure_collection(16, 8)


def test_an_unreachable_qdrant_server_is_a_transient_fault(tmp_path):
    import pytest

    from core.errors import TransientError
    from core.settings import Settings

    settings = Settings(home=tmp_path, qdrant_url="http://127.0.0.1:9")  # nothing listens there
    vid = add_ready_video(settings, "a.mp4", ["x"])
    index = VectorIndex(settings)
    with session_scope(settings) as s, pytest.raises(TransientError, match="unreachable"):
        index.sync_video(s, vid)
