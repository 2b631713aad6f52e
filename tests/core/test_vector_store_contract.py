"""The VectorStore contract, run case by case on every engine tests can reach: the embedded numpy
engine and qdrant-client's own engine (``QdrantClient(":memory:")``, the same client API a Qdrant
server answers). An engine that answers differently from the other fails here."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from qdrant_client import QdrantClient

from core.db import session_scope
from core.errors import TransientError
from core.lexical import sparse_vector
from core.models import Segment, Video
from core.settings import Settings
from core.vectors import (
    SearchFilter,
    VectorStore,
    base_index,
    open_vector_store,
    point_id,
    rebuild_from_catalog,
    snapshot,
    sync_from_catalog,
    sync_video,
)
from core.vectors.numpy_engine import NumpyStore
from core.vectors.snapshot import save_snapshot
from tests.catalog_helpers import add_ready_video

ENGINES = ["numpy", "numpy-large", "qdrant-local"]


class LargeInSmall(NumpyStore):
    """The embedded engine as it runs a large index, on a few points: before each write,
    everything written so far becomes a base (graphs and mapped files, as past LARGE_POINTS),
    so every search reads a base, the points written since, and the base rows they replaced."""

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder

    def upsert(self, points) -> None:  # type: ignore[no-untyped-def]
        if self.mem.count():
            save_snapshot(self, self.folder, "contract")
        super().upsert(points)


@pytest.fixture(autouse=True)
def _large_index_in_small(monkeypatch) -> None:
    # Every size is large, every base is rewritten, and the graphs answer every unfiltered query.
    monkeypatch.setattr(snapshot, "LARGE_POINTS", 1)
    monkeypatch.setattr(snapshot, "REWRITE_SHARE", 0.0)
    monkeypatch.setattr(base_index, "EXACT_SHARE", 0.0)
    monkeypatch.setattr(base_index, "EXACT_FACTOR", 0)


def open_engine(settings: Settings, engine: str) -> VectorStore:
    if engine == "qdrant-local":
        return open_vector_store(settings, client=QdrantClient(":memory:"))
    if engine == "numpy-large":
        return LargeInSmall(settings.home / "index" / f"large-{uuid.uuid4().hex}")
    return open_vector_store(settings)


@pytest.fixture(params=ENGINES)
def engine(request) -> str:
    return request.param


@pytest.fixture
def store(settings, engine) -> VectorStore:
    return open_engine(settings, engine)


def synced(settings: Settings, store: VectorStore) -> VectorStore:
    with session_scope(settings) as s:
        sync_from_catalog(store, s)
    return store


def ids_of(hits) -> list[str]:
    return [h.payload["video_id"] for h in hits]


# --- the engine each setting opens ---------------------------------------------------------------
def test_the_embedded_default_opens_the_numpy_engine_and_a_url_opens_qdrant(tmp_path):
    assert open_vector_store(Settings(home=tmp_path)).engine == "numpy"
    remote = Settings(home=tmp_path, qdrant_url="http://127.0.0.1:9")
    assert open_vector_store(remote).engine == "qdrant"


def test_point_ids_are_deterministic_per_video_and_segment():
    assert point_id("abc", 0) == point_id("abc", 0)
    assert point_id("abc", 0) != point_id("abc", 1) != point_id("abd", 0)


# --- sync ----------------------------------------------------------------------------------------
def test_sync_from_the_catalog_is_idempotent(settings, store):
    add_ready_video(settings, "a.mp4", ["a red car", "a blue boat"])
    add_ready_video(settings, "b.mp4", ["espresso"], seed=1)
    with session_scope(settings) as s:
        first = sync_from_catalog(store, s)
        second = sync_from_catalog(store, s)
    assert (first.upserted, first.total) == (3, 3)
    assert (second.upserted, second.deleted, second.total) == (0, 0, 3)


def test_videos_not_ready_are_not_indexed(settings, store):
    add_ready_video(settings, "a.mp4", ["x"], status="processing")
    with session_scope(settings) as s:
        assert sync_from_catalog(store, s).total == 0


def test_rebuild_gives_the_same_points_as_incremental_sync(settings, engine):
    incremental, rebuilt = open_engine(settings, engine), open_engine(settings, engine)
    for i, name in enumerate(["a.mp4", "b.mp4", "c.mp4"]):
        vid = add_ready_video(settings, name, [f"caption {name} {j}" for j in range(i + 1)], seed=i)
        with session_scope(settings) as s:
            sync_video(incremental, s, vid)
    with session_scope(settings) as s:
        rebuild_from_catalog(rebuilt, s)
    assert incremental.points() == rebuilt.points()
    assert len(rebuilt.points()) == 6


def test_a_new_revision_replaces_points_and_drops_segments_that_are_gone(settings, store):
    vid = add_ready_video(settings, "a.mp4", ["one", "two", "three"])
    synced(settings, store)
    with session_scope(settings) as s:
        video = s.get(Video, vid)
        s.delete(video.segments[-1])
        video.revision += 1
    with session_scope(settings) as s:
        report = sync_from_catalog(store, s)
    assert (report.upserted, report.deleted, report.total) == (2, 1, 2)
    assert {p["payload"]["revision"] for p in store.points().values()} == {2}


def test_points_of_an_older_payload_shape_are_rewritten(settings, store):
    vid = add_ready_video(settings, "a.mp4", ["one"])
    synced(settings, store)
    pid = point_id(vid, 0)
    old = store.points()[pid]
    from core.lexical import SparseVector
    from core.vectors import SegmentPoint

    store.upsert(
        [
            SegmentPoint(
                vid,
                0,
                np.asarray(old["vector"]["video"], np.float32),
                np.asarray(old["vector"]["text"], np.float32),
                SparseVector([], []),
                {**old["payload"], "payload_version": 0},
            )
        ]
    )
    assert store.revisions()[pid] == -1
    with session_scope(settings) as s:
        assert sync_from_catalog(store, s).upserted == 1
    assert store.revisions()[pid] == 1


def test_deleted_videos_leave_the_index(settings, store):
    vid = add_ready_video(settings, "a.mp4", ["one", "two"])
    with session_scope(settings) as s:
        sync_from_catalog(store, s)
        s.delete(s.get(Video, vid))
    with session_scope(settings) as s:
        assert sync_video(store, s, vid).total == 0
    assert store.video_point_ids(vid) == []


def test_a_collection_of_other_sizes_is_refused_with_the_sizes(store):
    store.ensure_collection(8, 8)
    store.ensure_collection(8, 8)  # the same sizes again: nothing to do
    assert store.dims() == {"video": 8, "text": 8}
    with pytest.raises(ValueError, match="rebuild"):
        store.ensure_collection(16, 8)


def test_dropping_empties_the_store_and_a_search_answers_nothing(settings, store):
    add_ready_video(settings, "a.mp4", ["one"])
    synced(settings, store)
    store.drop()
    assert store.count() == 0 and store.dims() is None
    assert store.search_dense("video", np.ones(8, np.float32), 5) == []
    assert store.search_lexical(sparse_vector("one"), 5) == []


# --- dense queries -------------------------------------------------------------------------------
def test_dense_search_ranks_by_cosine_and_honours_the_limit(settings, store):
    base = np.eye(8, dtype=np.float32)
    # Four segments at known angles to the query (the first axis).
    vectors = np.stack([base[0], base[0] + 0.5 * base[1], base[0] + 2 * base[1], base[1]])
    add_ready_video(settings, "a.mp4", ["w", "x", "y", "z"], video_vectors=vectors)
    synced(settings, store)
    hits = store.search_dense("video", base[0] * 3, 10)  # length must not matter
    assert [h.payload["index"] for h in hits] == [0, 1, 2, 3]
    assert hits[0].score == pytest.approx(1.0, abs=1e-5)
    assert hits[3].score == pytest.approx(0.0, abs=1e-5)
    for limit in (1, 2, 3):
        assert store.search_dense("video", base[0], limit) == hits[:limit]


def test_text_search_leaves_out_segments_without_text(settings, store):
    add_ready_video(settings, "a.mp4", ["spoken words", ""])
    synced(settings, store)
    hits = store.search_dense("text", np.ones(8, np.float32), 10)
    assert [h.payload["index"] for h in hits] == [0]
    assert len(store.search_dense("video", np.ones(8, np.float32), 10)) == 2


def test_vectors_are_returned_by_point_id_and_missing_ones_left_out(settings, store):
    vid = add_ready_video(settings, "a.mp4", ["one", "two"])
    synced(settings, store)
    got = store.vectors([point_id(vid, 1), point_id("nope", 0)], "video")
    assert list(got) == [point_id(vid, 1)]
    assert np.linalg.norm(got[point_id(vid, 1)]) > 0


# --- lexical queries -----------------------------------------------------------------------------
def test_lexical_search_finds_the_keyword(settings, store):
    add_ready_video(settings, "a.mp4", ["a red car drives", "the espresso machine hisses"])
    add_ready_video(settings, "b.mp4", ["a blue boat"], seed=2)
    synced(settings, store)
    hits = store.search_lexical(sparse_vector("Espresso!"), limit=5)
    assert len(hits) == 1 and hits[0].payload["text"] == "the espresso machine hisses"
    assert store.search_lexical(sparse_vector("the of"), limit=5) == []


def test_lexical_scores_weigh_rare_words_above_common_ones(settings, store):
    add_ready_video(settings, "a.mp4", ["car boat", "car", "car", "car"])
    synced(settings, store)
    hits = store.search_lexical(sparse_vector("car boat"), limit=10)
    assert hits[0].payload["index"] == 0  # holds the rare word too
    assert len(hits) == 4 and hits[0].score > hits[1].score


# --- filters, on every kind of query ---------------------------------------------------------------
@pytest.fixture
def filter_library(settings):
    early = datetime(2024, 1, 1, tzinfo=UTC)
    late = datetime(2025, 6, 1, tzinfo=UTC)
    ids = {
        "short": add_ready_video(
            settings, "short.mp4", ["red car"], duration=5, folder="/lib/a", created_at=early
        ),
        "long": add_ready_video(
            settings,
            "long.mp4",
            ["red car"],
            duration=500,
            folder="/lib/a/deep",
            has_speech=True,
            created_at=late,
            seed=1,
        ),
        "other": add_ready_video(
            settings, "other.mp4", ["red car"], duration=50, folder="/lib/b", seed=2
        ),
    }
    return ids, early, late


FILTER_CASES = {
    "min_duration": (lambda early, late: SearchFilter(min_duration=40), {"long", "other"}),
    "max_duration": (lambda early, late: SearchFilter(max_duration=40), {"short"}),
    "duration range": (
        lambda early, late: SearchFilter(min_duration=10, max_duration=100),
        {"other"},
    ),
    "ingested_before": (
        lambda early, late: SearchFilter(ingested_before=early.timestamp() + 1),
        {"short"},
    ),
    "ingested_after": (
        lambda early, late: SearchFilter(ingested_after=early.timestamp() + 1),
        {"long", "other"},
    ),
    "has_speech": (lambda early, late: SearchFilter(has_speech=True), {"long"}),
    "no speech": (lambda early, late: SearchFilter(has_speech=False), {"short", "other"}),
    "folder": (lambda early, late: SearchFilter(folder="/lib/a"), {"short", "long"}),
    "folder with a trailing slash": (
        lambda early, late: SearchFilter(folder="/lib/a/deep/"),
        {"long"},
    ),
    "unknown folder": (lambda early, late: SearchFilter(folder="/elsewhere"), set()),
    "video_ids": (None, {"short"}),
    "exclude_video_ids": (None, {"long", "other"}),
    "several at once": (
        lambda early, late: SearchFilter(folder="/lib", max_duration=100, has_speech=False),
        {"short", "other"},
    ),
}


@pytest.mark.parametrize("case", list(FILTER_CASES))
@pytest.mark.parametrize("kind", ["video", "text", "lexical"])
def test_every_filter_restricts_every_kind_of_query(settings, store, filter_library, case, kind):
    ids, early, late = filter_library
    make, expected = FILTER_CASES[case]
    if case == "video_ids":
        flt = SearchFilter(video_ids=(ids["short"],))
    elif case == "exclude_video_ids":
        flt = SearchFilter(exclude_video_ids=(ids["short"],))
    else:
        flt = make(early, late)
    synced(settings, store)
    if kind == "lexical":
        hits = store.search_lexical(sparse_vector("red car"), 10, flt)
    else:
        hits = store.search_dense(kind, np.ones(8, np.float32), 10, flt)
    name_of = {v: k for k, v in ids.items()}
    assert {name_of[v] for v in ids_of(hits)} == expected


def test_a_filter_can_add_exclusions_to_itself():
    flt = SearchFilter(folder="/x", exclude_video_ids=("a",)).excluding("b")
    assert flt.exclude_video_ids == ("a", "b") and flt.folder == "/x"


# --- both engines answer alike -------------------------------------------------------------------
def test_both_engines_rank_and_score_alike(settings):
    """The numpy engine must give Qdrant's answers: same order, same cosine and IDF scores."""
    for i, name in enumerate(["a.mp4", "b.mp4", "c.mp4", "d.mp4"]):
        add_ready_video(
            settings,
            name,
            [f"red car {name}", "espresso cup", f"blue boat {i}", "the red red car"],
            seed=i,
        )
    stores = [synced(settings, open_engine(settings, e)) for e in ENGINES]
    q = np.random.default_rng(5).normal(size=8).astype(np.float32)
    some = next(iter(stores[0].points().values()))["payload"]["video_id"]
    for flt in (None, SearchFilter(exclude_video_ids=(some,)), SearchFilter(video_ids=(some,))):
        dense = [
            [(h.id, round(h.score, 4)) for h in st.search_dense("video", q, 6, flt)]
            for st in stores
        ]
        text = [
            [(h.id, round(h.score, 4)) for h in st.search_dense("text", q, 6, flt)] for st in stores
        ]
        lexical = [
            [
                (h.id, round(h.score, 4))
                for h in st.search_lexical(sparse_vector("red car"), 20, flt)
            ]
            for st in stores
        ]
        for other in range(1, len(stores)):
            assert dense[0] == dense[other] and text[0] == text[other], ENGINES[other]
            assert sorted(lexical[0]) == sorted(lexical[other]) and lexical[0], ENGINES[other]


def test_both_engines_hold_the_same_points_after_a_sync(settings):
    add_ready_video(settings, "a.mp4", ["one two", "three"])
    *ours, qdrant_store = (synced(settings, open_engine(settings, e)) for e in ENGINES)
    theirs = qdrant_store.points()
    for store in ours:
        points = store.points()
        assert points.keys() == theirs.keys()
        for pid in points:
            assert points[pid]["payload"] == theirs[pid]["payload"]
            assert np.allclose(
                points[pid]["vector"]["video"], theirs[pid]["vector"]["video"], atol=1e-6
            )


# --- a server that does not answer ---------------------------------------------------------------
def test_an_unreachable_qdrant_server_is_a_transient_fault(tmp_path):
    settings = Settings(home=tmp_path, qdrant_url="http://127.0.0.1:9")  # nothing listens there
    vid = add_ready_video(settings, "a.mp4", ["x"])
    store = open_vector_store(settings)
    with session_scope(settings) as s, pytest.raises(TransientError, match="unreachable"):
        sync_video(store, s, vid)
    with pytest.raises(TransientError):
        store.search_dense("video", np.ones(8, np.float32), 5)


def test_segment_rows_exist_for_every_point(settings, store):
    vid = add_ready_video(settings, "a.mp4", ["one", "two"])
    synced(settings, store)
    with session_scope(settings) as s:
        rows = {point_id(vid, seg.index) for seg in s.query(Segment).filter_by(video_id=vid)}
    assert set(store.points()) == rows


class _StaleCheck:
    """A Qdrant client whose first existence check is stale: another writer creates the
    collection between our check and our create (bench/faults.py hit this during rebuilds)."""

    def __init__(self, client: QdrantClient) -> None:
        self.client, self.stale = client, True

    def collection_exists(self, name: str) -> bool:
        if self.stale:
            self.stale = False
            return False
        return bool(self.client.collection_exists(name))

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self.client, name)


def test_a_collection_made_by_another_writer_meanwhile_is_used_if_its_sizes_agree(tmp_path):
    from core.vectors.qdrant_engine import QdrantStore

    client = QdrantClient(":memory:")
    QdrantStore("segments", client=client).ensure_collection(8, 8)  # the other writer
    ours = QdrantStore("segments", client=_StaleCheck(client))  # type: ignore[arg-type]
    ours.ensure_collection(8, 8)  # raced, and takes theirs
    assert ours.dims() == {"video": 8, "text": 8}
    other = QdrantStore("segments", client=_StaleCheck(client))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="sizes"):
        other.ensure_collection(16, 8)
