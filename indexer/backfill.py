"""Class beliefs for segments indexed before the catalog kept them (schema 0006), computed from
their stored clip features: nothing is decoded again, and the videos' revisions move so every
index rewrites their points."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from sqlalchemy import select, update

from core.arrays import unpack_f16_matrix
from core.beliefs import beliefs_to_text
from core.db import session_scope
from core.models import Segment, Video
from core.settings import Settings

BATCH = 256  # segments per transaction: a crash keeps what was done, a rerun does the rest

Beliefs = Callable[[Sequence[np.ndarray]], list[dict[int, float]]]


def backfill_class_beliefs(settings: Settings, beliefs: Beliefs | None = None) -> int:
    """Give every segment without class beliefs its own; returns how many were given."""
    if beliefs is None:

        def beliefs(clips: Sequence[np.ndarray]) -> list[dict[int, float]]:
            # Imported only when there is work: a reindex with none stays a cold, light call.
            from videobert.embedder import frame_class_beliefs

            return frame_class_beliefs(settings, clips)

    done = 0
    while True:
        with session_scope(settings) as session:
            rows = session.execute(
                select(Segment.id, Segment.video_id, Segment.clip_features)
                .where(Segment.class_beliefs.is_(None))
                .order_by(Segment.id)
                .limit(BATCH)
            ).all()
            if not rows:
                return done
            found = beliefs([unpack_f16_matrix(blob) for _, _, blob in rows])
            for (segment_id, _, _), b in zip(rows, found, strict=True):
                session.execute(
                    update(Segment)
                    .where(Segment.id == segment_id, Segment.class_beliefs.is_(None))
                    .values(class_beliefs=beliefs_to_text(b))
                )
            # A new revision: each process's index sees the video changed and rewrites it.
            videos = sorted({v for _, v, _ in rows})
            session.execute(
                update(Video).where(Video.id.in_(videos)).values(revision=Video.revision + 1)
            )
        done += len(rows)
