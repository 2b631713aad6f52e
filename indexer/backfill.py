"""What segments indexed before the catalog kept it still lack: class beliefs (schema 0006),
computed from their stored clip features, looks, and the text on screen and the people seen
(schema 0008), from their stored thumbnails. Nothing is decoded again, and the videos' revisions
move so every index rewrites their points."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from sqlalchemy import ColumnElement, false, func, or_, select, update

from core.arrays import pack_f32, unpack_f16_matrix
from core.beliefs import beliefs_to_text
from core.db import session_scope
from core.looks import frame_looks, looks_to_text
from core.models import Segment, Video
from core.people import people_to_text
from core.settings import Settings
from indexer.detect import Seen, SegmentDetectors
from indexer.embed import with_screen_text
from model_lifecycle.spaces import read_spaces

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


Detect = Callable[[Sequence[np.ndarray]], Seen]
EmbedText = Callable[[list[str]], np.ndarray]
Progress = Callable[[int, int], None]  # (segments done, segments to do)


def thumbnail_rgb(path: Path) -> np.ndarray | None:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            return np.asarray(img.convert("RGB"))
    except (OSError, UnidentifiedImageError) as exc:
        log.warning("cannot read %s: %s", path, exc)
        return None


def _wanted(settings: Settings, text: bool) -> ColumnElement[bool]:
    conditions = []
    if text:
        conditions.append(Segment.screen_text.is_(None))
    if settings.people:
        conditions.append(Segment.people.is_(None))
    return or_(*conditions) if conditions else false()


def backfill_seen(
    settings: Settings,
    *,
    detect: Detect | None = None,
    embed_text: EmbedText | None = None,
    on_progress: Progress | None = None,
) -> int:
    """Read the text on screen and count the people in the stored thumbnail of every segment
    indexed before either was done (as the settings turn them on); returns how many changed (a
    segment whose detectors failed stays to do, for the next run).

    The thumbnail is the segment's middle frame at the width the pipeline reads (320), so it
    suffices: a segment whose text changes between frames gets the middle frame's. A segment with
    text gets it in its caption and a new text vector (the active model's); while a trained
    model's vectors are being filled in (a pending space) that waits for the next reindex.
    Batches commit one by one: an interrupted run keeps what it did and a rerun does the rest."""
    with session_scope(settings) as session:
        _, pending = read_spaces(session=session)
    text = settings.screen_text and pending is None
    if settings.screen_text and not text:
        log.warning("on-screen text waits for the re-embed in progress to finish: reindex then")
    wanted = _wanted(settings, text)
    detect = detect or SegmentDetectors(screen_text=text, people=settings.people)
    with session_scope(settings) as session:
        total = session.scalar(select(func.count(Segment.id)).where(wanted)) or 0
    done = last_id = changed = 0
    while done < total:
        with session_scope(settings) as session:
            rows = session.execute(
                select(
                    Segment.id,
                    Segment.video_id,
                    Segment.thumbnail,
                    Segment.caption,
                    Segment.transcript,
                    Segment.screen_text.is_(None),
                    Segment.people.is_(None),
                )
                .where(wanted, Segment.id > last_id)
                .order_by(Segment.id)
                .limit(BATCH)
            ).all()
            if not rows:
                break
            last_id = rows[-1][0]
            values: dict[int, dict[str, object]] = {}
            captions: dict[int, str] = {}
            for segment_id, _, thumbnail, caption, transcript, no_text, no_people in rows:
                rgb = thumbnail_rgb(settings.thumbnails_dir / thumbnail) if thumbnail else None
                seen = detect([rgb] if rgb is not None else [])
                row: dict[str, object] = {}
                # None: that detector failed here (it logged why): the column stays NULL, so the
                # next reindex tries again, and this run's paging moves past the row.
                if text and no_text and seen.screen_text is not None:
                    row["screen_text"] = "\n".join(seen.screen_text)
                    if seen.screen_text:
                        captions[segment_id] = with_screen_text(
                            caption, transcript, seen.screen_text
                        )
                if settings.people and no_people and seen.people is not None:
                    row["people"] = people_to_text(seen.people)
                if row:
                    values[segment_id] = row
            if captions:
                if embed_text is None:
                    from model_lifecycle.active import load_embedder

                    embed_text = load_embedder(settings).embed_text
                vectors = embed_text(list(captions.values()))
                for (segment_id, caption), vector in zip(captions.items(), vectors, strict=True):
                    values[segment_id].update(caption=caption, text_vector=pack_f32(vector))
            for segment_id, row in values.items():
                session.execute(update(Segment).where(Segment.id == segment_id).values(**row))
            videos = sorted({r[1] for r in rows if r[0] in values})
            if videos:
                session.execute(
                    update(Video).where(Video.id.in_(videos)).values(revision=Video.revision + 1)
                )
        done += len(rows)
        changed += len(values)
        if on_progress is not None:
            on_progress(min(done, total), total)
    return changed
