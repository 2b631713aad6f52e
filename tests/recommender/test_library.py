"""recommender.library: one vector per ready video, averaged from its segments, kept fresh."""

import numpy as np
import pytest
from sqlalchemy import select

from core.arrays import pack_f32
from core.db import session_scope
from core.models import Segment, VideoStatus
from recommender.library import VideoLibrary, average_segments
from tests.recommender.helpers import add_topic_video, topic


def test_a_videos_vector_is_its_segments_unit_vectors_weighted_by_length():
    vectors = np.array([[3.0, 0.0], [0.0, 0.5]])
    assert average_segments(vectors, np.array([3.0, 1.0])).tolist() == pytest.approx([0.75, 0.25])
    assert average_segments(np.zeros((0, 2)), np.zeros(0)) is None


def test_only_ready_videos_with_vectors_of_the_librarys_size_are_in_the_matrix(settings):
    a = add_topic_video(settings, "a", topic(0))
    b = add_topic_video(settings, "b", topic(1), seed=1)
    c = add_topic_video(settings, "c", topic(2), seed=2)
    add_topic_video(settings, "pending", topic(3), seed=3)
    with session_scope(settings) as s:
        from core.models import Video

        s.scalar(select(Video).where(Video.title == "pending")).status = VideoStatus.PROCESSING
        odd = s.scalars(select(Segment).where(Segment.video_id == c)).all()
        for seg in odd:
            seg.video_vector = pack_f32(np.ones(5))  # another space's size
    snap = VideoLibrary(settings).snapshot()
    assert sorted(snap.ids) == sorted([a, b])
    assert snap.matrix.shape == (2, 16)
    assert np.allclose(np.linalg.norm(snap.matrix, axis=1), 1.0, atol=1e-5)
    assert snap.titles[snap.index[a]] == "a" and snap.durations[a] == 6.0


def test_the_snapshot_is_reused_until_the_catalog_changes(settings):
    add_topic_video(settings, "a", topic(0))
    add_topic_video(settings, "b", topic(1), seed=1)
    library = VideoLibrary(settings, check_seconds=0)
    first = library.snapshot()
    assert library.snapshot() is first
    add_topic_video(settings, "c", topic(2), seed=2)
    second = library.snapshot()
    assert second.version == first.version + 1 and len(second.ids) == 3


def test_the_catalog_is_checked_at_most_once_per_check_interval(settings):
    add_topic_video(settings, "a", topic(0))
    library = VideoLibrary(settings, check_seconds=3600)
    first = library.snapshot()
    add_topic_video(settings, "b", topic(1), seed=1)
    assert library.snapshot() is first
    library.check_seconds = 0
    assert len(library.snapshot().ids) == 2
