"""Writing catalog rows directly, for tests of what reads the catalog."""

from __future__ import annotations

import hashlib
from datetime import datetime

import numpy as np

from core.arrays import pack_f16_matrix, pack_f32
from core.db import session_scope
from core.models import Segment, Video, VideoStatus, utcnow
from core.settings import Settings


def add_ready_video(
    settings: Settings,
    name: str,
    captions: list[str],
    *,
    dim: int = 8,
    seed: int = 0,
    status: str = VideoStatus.READY,
    folder: str = "/videos",
    has_speech: bool = False,
    duration: float | None = None,
    created_at: datetime | None = None,
    video_vectors: np.ndarray | None = None,
) -> str:
    """A video with one segment per caption and random (or given) vectors; returns its id."""
    rng = np.random.default_rng(seed)
    key = name if folder == "/videos" else f"{folder}/{name}"
    digest = hashlib.sha256(key.encode()).hexdigest()
    with session_scope(settings) as session:
        video = Video(
            id=digest[:16],
            content_hash=digest,
            source_path=f"{folder}/{name}",
            title=name,
            duration=duration if duration is not None else 3.0 * len(captions),
            size_bytes=1000,
            status=status,
            has_speech=has_speech,
            revision=1,
            indexed_at=utcnow() if status == VideoStatus.READY else None,
        )
        if created_at is not None:
            video.created_at = created_at
        session.add(video)
        session.flush()
        for i, caption in enumerate(captions):
            vvec = video_vectors[i] if video_vectors is not None else rng.normal(size=dim)
            session.add(
                Segment(
                    video_id=video.id,
                    index=i,
                    shot_index=i,
                    start=3.0 * i,
                    end=3.0 * (i + 1),
                    transcript=caption,
                    tags="",
                    caption=caption,
                    n_clips=2,
                    video_vector=pack_f32(vvec),
                    text_vector=pack_f32(rng.normal(size=dim)),
                    clip_features=pack_f16_matrix(rng.normal(size=(2, 4))),
                )
            )
        return video.id
