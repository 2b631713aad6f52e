"""Served mode: the recommender's content candidates and video vectors come from Qdrant's
video-level collection (qdrant-client's local engine, the client API a server answers), kept in
step with the catalog by the sync; no process reads or scans every video's vector."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from qdrant_client import QdrantClient
from sqlalchemy import select

from core.arrays import pack_f32
from core.db import session_scope
from core.models import Segment, Video
from core.settings import Settings
from core.vectors import open_vector_store, open_video_index, sync_from_catalog, sync_video
from core.vectors.qdrant_engine import QdrantStore, QdrantVideoIndex
from core.vectors.sync import VideoPoint
from recommender import content, library
from recommender.content import IndexSearch, MatrixSearch, normalize_rows
from recommender.rank import RankWeights
from recommender.service import Recommender
from services.recommendations import recommender_for
from tests.recommender.helpers import DIM, add_topic_video, topic
from tests.recommender.test_service import COOKING, LECTURES, SPORTS, _library, _user, _watch


def _served(settings: Settings) -> tuple[QdrantClient, Recommender]:
    """The catalog synced into a local Qdrant (as the workers would have), and a recommender
    built for served mode on it."""
    client = QdrantClient(":memory:")
    store = open_vector_store(settings, client=client)
    with session_scope(settings) as s:
        sync_from_catalog(store, s)
    return client, recommender_for(settings, qdrant_client=client)


def _video_index(settings: Settings, client: QdrantClient) -> QdrantVideoIndex:
    index = open_video_index(settings, client=client)
    assert index is not None
    return index


def _video(session: Any, video_id: str) -> Video:
    video = session.get(Video, video_id)
    assert video is not None
    return video


@pytest.fixture
def no_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every way the recommender could read or scan the whole library's vectors raises."""

    def scan(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("served mode scanned the library in process")

    monkeypatch.setattr(library, "mean_video_vector", scan)
    monkeypatch.setattr(library, "average_segments", scan)
    monkeypatch.setattr(library, "normalize_rows", scan)
    monkeypatch.setattr(content, "content_scores", scan)
    monkeypatch.setattr(MatrixSearch, "__call__", scan)


def test_served_recommend_ranks_cooking_first_without_scanning_the_library(catalog, no_scan):
    v = _library(catalog)
    ana = _user(catalog, "ana")
    for i in range(3):
        _watch(catalog, ana, v[f"cooking {i}"], "started", "completed")
    _watch(catalog, ana, v["lecture 0"], "started", "skipped")
    _, rec = _served(catalog)
    got = rec.recommend(user_id=ana, limit=8)
    assert rec.library.snapshot().matrix.shape == (12, 0)  # rows only, no vectors
    assert got[0].video_id == v["cooking 3"] and got[0].reason_kind == "content"
    assert got[0].because_video_id in {v[f"cooking {i}"] for i in range(3)}
    score = {r.title: r.score for r in got}
    # Away from the skipped lecture, as in the embedded default.
    assert min(score[f"sports {i}"] for i in range(4)) > max(
        score[f"lecture {i}"] for i in (1, 2, 3)
    )


def test_served_and_embedded_recommendations_agree(catalog):
    v = _library(catalog)
    ana = _user(catalog, "ana")
    _watch(catalog, ana, v["cooking 0"], "liked")
    _watch(catalog, ana, v["sports 1"], "started", "progress", position=2.0)
    _watch(catalog, ana, v["lecture 2"], "disliked")
    _, served = _served(catalog)
    embedded = Recommender(catalog).recommend(user_id=ana, limit=9)
    got = served.recommend(user_id=ana, limit=9)
    assert [r.video_id for r in got] == [r.video_id for r in embedded]
    assert [r.score for r in got] == pytest.approx([r.score for r in embedded], abs=1e-5)
    assert [r.reason for r in got] == [r.reason for r in embedded]


def test_the_index_search_scores_as_the_matrix_scan_does_with_weights_and_negatives():
    rng = np.random.default_rng(0)
    vectors = normalize_rows(rng.normal(size=(200, DIM)))
    ids = [f"v{i:03d}" for i in range(200)]
    index = QdrantVideoIndex("videos", client=QdrantClient(":memory:"))
    points = [VideoPoint(v, vec, {"video_id": v}) for v, vec in zip(ids, vectors, strict=True)]
    index.upsert(points)
    matrix = MatrixSearch(vectors, ids, negative_weight=0.5)
    served = IndexSearch(index, negative_weight=0.5)
    pos, neg = vectors[:3], vectors[3:5]
    pos_w, neg_w = np.array([1.5, 1.0, 0.3]), np.array([1.0, 0.4])
    none = np.zeros((0, DIM), np.float32)
    for case in [
        (pos, pos_w, neg, neg_w),
        (pos, pos_w, none, np.zeros(0)),
        (none, np.zeros(0), neg, neg_w),  # only dislikes: away from them
    ]:
        want, have = matrix(*case, 20), served(*case, 20)
        assert sorted(have, key=have.__getitem__) == sorted(want, key=want.__getitem__)
        assert [have[k] for k in want] == pytest.approx([want[k] for k in want], abs=1e-5)
    assert served(none, np.zeros(0), none, np.zeros(0), 20) == {}


def test_the_video_index_follows_new_changed_and_deleted_videos(catalog):
    cooking = add_topic_video(catalog, "cooking", topic(COOKING))
    client, rec = _served(catalog)
    index = _video_index(catalog, client)
    store = open_vector_store(catalog, client=client)
    assert index.revisions() == {cooking: 1}
    # New: a worker's sync after its commit writes the video point too.
    sports = add_topic_video(catalog, "sports", topic(SPORTS), seed=1)
    with session_scope(catalog) as s:
        sync_video(store, s, sports)
    assert set(index.revisions()) == {cooking, sports}
    # Changed: re-embedded, its revision moves, and so does its point.
    with session_scope(catalog) as s:
        for seg in s.scalars(select(Segment).where(Segment.video_id == sports)):
            seg.video_vector = pack_f32(topic(LECTURES))
        _video(s, sports).revision += 1
        sync_video(store, s, sports)
    assert index.revisions()[sports] == 2
    assert index.vectors([sports])[sports] == pytest.approx(topic(LECTURES), abs=1e-6)
    # Deleted: gone from the catalog, gone from the index (and from recommendations).
    with session_scope(catalog) as s:
        s.delete(_video(s, sports))
    with session_scope(catalog) as s:
        sync_video(store, s, sports)
    assert index.revisions() == {cooking: 1}
    ana = _user(catalog, "ana")
    assert [r.video_id for r in rec.recommend(user_id=ana)] == [cooking]


def test_a_reconcile_rewrites_only_what_moved_and_drops_what_is_gone(catalog, monkeypatch):
    a = add_topic_video(catalog, "a", topic(COOKING))
    b = add_topic_video(catalog, "b", topic(SPORTS), seed=1)
    client, _ = _served(catalog)
    store = open_vector_store(catalog, client=client)
    assert isinstance(store, QdrantStore)
    written: list[str] = []
    upsert = store.videos.upsert

    def recording(points: list[VideoPoint]) -> None:
        written.extend(p.video_id for p in points)
        upsert(points)

    monkeypatch.setattr(store.videos, "upsert", recording)
    with session_scope(catalog) as s:
        _video(s, a).revision += 1
        s.delete(_video(s, b))
    with session_scope(catalog) as s:
        sync_from_catalog(store, s)
    assert written == [a] and store.videos.revisions() == {a: 2}


def test_a_lost_video_collection_is_filled_again_at_the_next_recommendation(catalog):
    v = _library(catalog)
    ana = _user(catalog, "ana")
    _watch(catalog, ana, v["cooking 0"], "completed")
    client, rec = _served(catalog)
    index = _video_index(catalog, client)
    index.drop()
    got = rec.recommend(user_id=ana, limit=3)
    assert index.count() == 12
    assert got[0].title.startswith("cooking")


def test_a_user_with_no_history_gets_popular_videos_in_served_mode(catalog, no_scan):
    v = _library(catalog)
    for n in range(3):
        _watch(catalog, _user(catalog, f"viewer{n}"), v["sports 2"], "completed")
    _, rec = _served(catalog)
    got = rec.recommend(user_id=_user(catalog, "newcomer"), limit=3)
    assert got[0].video_id == v["sports 2"] and got[0].reason == "popular in your library"


def test_the_content_candidates_are_asked_of_qdrants_recommend_query(catalog, monkeypatch):
    v = _library(catalog)
    ana = _user(catalog, "ana")
    _watch(catalog, ana, v["cooking 0"], "completed")
    _watch(catalog, ana, v["lecture 0"], "disliked")
    client, rec = _served(catalog)
    queries: list[Any] = []
    query_points = client.query_points

    def spy(collection_name: str, **kwargs: Any) -> Any:
        queries.append((collection_name, kwargs))
        return query_points(collection_name, **kwargs)

    monkeypatch.setattr(client, "query_points", spy)
    rec.recommend(user_id=ana, limit=3)
    ((collection, kwargs),) = queries
    assert collection == f"{catalog.qdrant_collection}_videos"
    assert kwargs["limit"] == RankWeights().content_candidates
    recommend = kwargs["query"].recommend
    assert len(recommend.positive) == 1 and len(recommend.negative) == 1
    assert recommend.strategy == "average_vector"
