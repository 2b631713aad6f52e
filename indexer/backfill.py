"""What segments indexed before the catalog kept it still lack (schema 0006): class beliefs,
computed from their stored clip features, and looks, from their stored thumbnails. Nothing is
decoded again, and the videos' revisions move so every index rewrites their points."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from sqlalchemy import or_, select, update

from core.arrays import unpack_f16_matrix
from core.beliefs import beliefs_to_text
from core.db import session_scope
from core.looks import frame_looks, looks_to_text
from core.models import Segment, Video
from core.settings import Settings

log = logging.getLogger(__name__)

BATCH = 256  # segments per transaction: a crash keeps what was done, a rerun does the rest

Beliefs = Callable[[Sequence[np.ndarray]], list[dict[int, float]]]


def thumbnail_looks(path: Path) -> dict[str, float]:
    """The looks of a stored thumbnail; a missing or unreadable one gives none (the segment then
    matches no look, and says so in the log, rather than stopping the backfill)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            rgb = np.asarray(img.convert("RGB"))
    except (OSError, UnidentifiedImageError) as exc:
        log.warning("no looks for %s: %s", path, exc)
        return {}
    return {k: round(v, 3) for k, v in frame_looks(rgb).items()}


def backfill_segments(settings: Settings, beliefs: Beliefs | None = None) -> int:
    """Give every segment without class beliefs or looks its own; returns how many changed."""
    if beliefs is None:

        def beliefs(clips: Sequence[np.ndarray]) -> list[dict[int, float]]:
            # Imported only when there is work: a reindex with none stays a cold, light call.
            from videobert.embedder import frame_class_beliefs

            return frame_class_beliefs(settings, clips)

    done = 0
    while True:
        with session_scope(settings) as session:
            rows = session.execute(
                select(
                    Segment.id,
                    Segment.video_id,
                    Segment.clip_features,
                    Segment.thumbnail,
                    Segment.class_beliefs.is_(None),
                    Segment.looks.is_(None),
                )
                .where(or_(Segment.class_beliefs.is_(None), Segment.looks.is_(None)))
                .order_by(Segment.id)
                .limit(BATCH)
            ).all()
            if not rows:
                return done
            need_beliefs = [r for r in rows if r[4]]
            found = beliefs([unpack_f16_matrix(r[2]) for r in need_beliefs]) if need_beliefs else []
            belief_of = {r[0]: b for r, b in zip(need_beliefs, found, strict=True)}
            for segment_id, _, _, thumbnail, _, no_looks in rows:
                values: dict[str, str] = {}
                if segment_id in belief_of:
                    values["class_beliefs"] = beliefs_to_text(belief_of[segment_id])
                if no_looks:
                    looks = (
                        thumbnail_looks(settings.thumbnails_dir / thumbnail) if thumbnail else {}
                    )
                    values["looks"] = looks_to_text(looks)
                session.execute(update(Segment).where(Segment.id == segment_id).values(**values))
            # A new revision: each process's index sees the video changed and rewrites it.
            videos = sorted({r[1] for r in rows})
            session.execute(
                update(Video).where(Video.id.in_(videos)).values(revision=Video.revision + 1)
            )
        done += len(rows)
