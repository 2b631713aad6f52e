"""A catalog of videos whose vectors the test chooses (topics), for the recommender's tests."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
from sqlalchemy import select

from core.arrays import pack_f32
from core.db import session_scope
from core.models import Segment, Video, utcnow
from core.settings import Settings
from tests.catalog_helpers import add_ready_video

DIM = 16


def topic(k: int) -> np.ndarray:
    """A direction of its own per topic."""
    return np.eye(DIM, dtype=np.float32)[k]


def add_topic_video(
    settings: Settings,
    name: str,
    vector: np.ndarray,
    *,
    seed: int = 0,
    segments: int = 2,
    days_old: float = 60.0,
    noise: float = 0.1,
) -> str:
    """A ready video (3 s per segment) whose segments lie near `vector`, indexed `days_old` ago."""
    vid = add_ready_video(settings, name, ["x"] * segments, dim=len(vector), seed=seed)
    rng = np.random.default_rng(seed)
    with session_scope(settings) as s:
        for seg in s.scalars(select(Segment).where(Segment.video_id == vid)):
            seg.video_vector = pack_f32(vector + noise * rng.normal(size=len(vector)))
        s.get(Video, vid).indexed_at = utcnow() - timedelta(days=days_old)
    return vid
