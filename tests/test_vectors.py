import pytest
from qdrant_client import QdrantClient

from core.db import session_scope
from core.models import Video
from core.vectors import VectorIndex, point_id
from tests.catalog_helpers import add_ready_video

ENGINES = ["qdrant-local", "numpy"]


@pytest.fixture(params=ENGINES)
def engine(request):
    return request.param


def _make(settings, engine):
    if engine == "qdrant-local":
        return VectorIndex(settings, client=QdrantClient(":memory:"))
    return VectorIndex(settings)  # the embedded default: MemoryIndex


@pytest.fixture
def make_index(engine):
    return lambda settings: _make(settings, engine)


def test_point_ids_are_deterministic_per_video_and_segment():
    assert point_id("abc", 0) == point_id("abc", 0)
    assert point_id("abc", 0) != point_id("abc", 1) != point_id("abd", 0)


def test_sync_from_the_catalog_is_idempotent(settings, make_index):
    add_ready_video(settings, "a.mp4", ["a red car", "a blue boat"])
    add_ready_video(settings, "b.mp4", ["espresso"], seed=1)
    index = make_index(settings)
    with session_scope(settings) as s:
        first = index.sync_from_catalog(s)
        second = index.sync_from_catalog(s)
    assert (first.upserted, first.total) == (3, 3)
    assert (second.upserted, second.deleted, second.total) == (0, 0, 3)


def test_videos_not_ready_are_not_indexed(settings, make_index):
    add_ready_video(settings, "a.mp4", ["x"], status="processing")
    index = make_index(settings)
    with session_scope(settings) as s:
        assert index.sync_from_catalog(s).total == 0


def test_rebuild_gives_the_same_points_as_incremental_sync(settings, make_index):
    incremental, rebuilt = make_index(settings), make_index(settings)
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


def test_a_new_revision_replaces_points_and_drops_segments_that_are_gone(settings, make_index):
    vid = add_ready_video(settings, "a.mp4", ["one", "two", "three"])
    index = make_index(settings)
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


def test_deleted_videos_leave_the_index(settings, make_index):
    vid = add_ready_video(settings, "a.mp4", ["one", "two"])
    index = make_index(settings)
    with session_scope(settings) as s:
        index.sync_from_catalog(s)
        s.delete(s.get(Video, vid))
    with session_scope(settings) as s:
        assert index.sync_video(s, vid).total == 0


def test_lexical_search_finds_the_keyword(settings, make_index):
    add_ready_video(settings, "a.mp4", ["a red car drives", "the espresso machine hisses"])
    add_ready_video(settings, "b.mp4", ["a blue boat"], seed=2)
    index = make_index(settings)
    with session_scope(settings) as s:
        index.sync_from_catalog(s)
    hits = index.search_lexical("Espresso!", limit=5)
    assert len(hits) == 1 and hits[0].payload["text"] == "the espresso machine hisses"
    assert index.search_lexical("the of", limit=5) == []


def test_a_collection_of_other_sizes_is_refused_with_the_sizes(settings, make_index):
    index = make_index(settings)
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


def test_both_engines_rank_and_score_alike(settings):
    """The numpy engine must give Qdrant's answers: same order, same cosine and IDF scores."""
    import numpy as np

    from core.vectors import SearchFilter

    for i, name in enumerate(["a.mp4", "b.mp4", "c.mp4", "d.mp4"]):
        add_ready_video(
            settings,
            name,
            [f"red car {name}", "espresso cup", f"blue boat {i}", "the red red car"],
            seed=i,
        )
    engines = [_make(settings, e) for e in ENGINES]
    for index in engines:
        with session_scope(settings) as s:
            index.sync_from_catalog(s)
    q = np.random.default_rng(5).normal(size=8).astype(np.float32)
    some = next(iter(engines[0].points().values()))["payload"]["video_id"]
    for flt in (None, SearchFilter(exclude_video_ids=(some,)), SearchFilter(video_ids=(some,))):
        dense = [
            [(h.id, round(h.score, 4)) for h in ix.search_dense("video", q, 6, flt)]
            for ix in engines
        ]
        text = [
            [(h.id, round(h.score, 4)) for h in ix.search_dense("text", q, 6, flt)]
            for ix in engines
        ]
        lexical = [
            [(h.id, round(h.score, 4)) for h in ix.search_lexical("red car", 20, flt)]
            for ix in engines
        ]
        assert dense[0] == dense[1] and text[0] == text[1]
        assert sorted(lexical[0]) == sorted(lexical[1]) and lexical[0]
