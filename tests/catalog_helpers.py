"""Writing catalog rows directly, for tests of what reads the catalog."""

from __future__ import annotations

import hashlib

import numpy as np

from core.arrays import pack_f16_matrix, pack_f32
from core.db import session_scope
from core.models import Segment, Video, VideoStatus
from core.settings import Settings


def add_ready_video(
    settings: Settings,
    name: str,
    captions: list[str],
    *,
    dim: int = 8,
    seed: int = 0,
    status: str = VideoStatus.READY,
) -> str:
    rng = np.random.default_rng(seed)
    digest = hashlib.sha256(name.encode()).hexdigest()
    with session_scope(settings) as session:
        video = Video(
            id=digest[:16],
            content_hash=digest,
            source_path=f"/videos/{name}",
            title=name,
            duration=3.0 * len(captions),
            size_bytes=1000,
            status=status,
            revision=1,
        )
        session.add(video)
        session.flush()
        for i, caption in enumerate(captions):
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
                    video_vector=pack_f32(rng.normal(size=dim)),
                    text_vector=pack_f32(rng.normal(size=dim)),
                    clip_features=pack_f16_matrix(rng.normal(size=(2, 4))),
                )
            )
        return video.id
