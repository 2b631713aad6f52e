"""What segments indexed before the catalog kept it still lack: class beliefs (schema 0006),
computed from their stored clip features, looks, and the text on screen and the people seen
(schema 0008), from their stored thumbnails. Nothing is decoded again, and the videos' revisions
move so every index rewrites their points (the catalog side: core/segment_backfill.py)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from core.arrays import pack_f32, unpack_f16_matrix
from core.beliefs import beliefs_to_text
from core.db import session_scope
from core.looks import frame_looks, looks_to_text
from core.people import people_to_text
from core.segment_backfill import (
    LacksBeliefsOrLooks,
    LacksSeen,
    bump_revisions,
    count_segments_lacking_seen,
    segments_lacking_beliefs_or_looks,
    segments_lacking_seen,
    update_segment,
)
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
            from videobert.embedder import picture_encoder
            from videobert.options import ModelOptions
            from videobert.picture_words import segment_beliefs

            return segment_beliefs(picture_encoder(ModelOptions.from_settings(settings)), clips)

    done = 0
    while True:
        with session_scope(settings) as session:
            rows = segments_lacking_beliefs_or_looks(session=session, limit=BATCH)
            if not rows:
                return done
            for segment_id, values in _beliefs_and_looks(settings, rows, beliefs).items():
                update_segment(session=session, segment_id=segment_id, values=values)
            bump_revisions(session=session, video_ids=sorted({r.video_id for r in rows}))
        done += len(rows)


def _beliefs_and_looks(
    settings: Settings, rows: Sequence[LacksBeliefsOrLooks], beliefs: Beliefs
) -> dict[int, dict[str, str]]:
    """The columns to set on each segment of a batch: what it lacked, computed."""
    need_beliefs = [r for r in rows if r.no_beliefs]
    found = (
        beliefs([unpack_f16_matrix(r.clip_features) for r in need_beliefs]) if need_beliefs else []
    )
    belief_of = {r.id: b for r, b in zip(need_beliefs, found, strict=True)}
    values: dict[int, dict[str, str]] = {}
    for row in rows:
        columns = values.setdefault(row.id, {})
        if row.id in belief_of:
            columns["class_beliefs"] = beliefs_to_text(belief_of[row.id])
        if row.no_looks:
            looks = (
                thumbnail_looks(settings.thumbnails_dir / row.thumbnail) if row.thumbnail else {}
            )
            columns["looks"] = looks_to_text(looks)
    return values


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
    detect = detect or SegmentDetectors(screen_text=text, people=settings.people)
    with session_scope(settings) as session:
        total = count_segments_lacking_seen(
            session=session, screen_text=text, people=settings.people
        )
    done = last_id = changed = 0
    while done < total:
        with session_scope(settings) as session:
            rows = segments_lacking_seen(
                session=session,
                screen_text=text,
                people=settings.people,
                after_id=last_id,
                limit=BATCH,
            )
            if not rows:
                break
            last_id = rows[-1].id
            seen = _SeenBatch(settings, text=text, detect=detect)
            values = seen.columns(rows)
            if seen.captions:
                if embed_text is None:
                    from model_lifecycle.active import load_embedder

                    embed_text = load_embedder(settings).embed_text
                seen.add_text_vectors(values, embed_text)
            for segment_id, row in values.items():
                update_segment(session=session, segment_id=segment_id, values=row)
            videos = sorted({r.video_id for r in rows if r.id in values})
            if videos:
                bump_revisions(session=session, video_ids=videos)
        done += len(rows)
        changed += len(values)
        if on_progress is not None:
            on_progress(min(done, total), total)
    return changed


class _SeenBatch:
    """What the detectors found in one batch's thumbnails, as the columns to set, and the
    captions that now hold on-screen text (their text vectors are made again)."""

    def __init__(self, settings: Settings, *, text: bool, detect: Detect) -> None:
        self.settings = settings
        self.text = text
        self.detect = detect
        self.captions: dict[int, str] = {}

    def columns(self, rows: Sequence[LacksSeen]) -> dict[int, dict[str, object]]:
        values: dict[int, dict[str, object]] = {}
        for r in rows:
            thumbnails = self.settings.thumbnails_dir
            rgb = thumbnail_rgb(thumbnails / r.thumbnail) if r.thumbnail else None
            seen = self.detect([rgb] if rgb is not None else [])
            row: dict[str, object] = {}
            # None: that detector failed here (it logged why): the column stays NULL, so the
            # next reindex tries again, and this run's paging moves past the row.
            if self.text and r.no_screen_text and seen.screen_text is not None:
                row["screen_text"] = "\n".join(seen.screen_text)
                if seen.screen_text:
                    self.captions[r.id] = with_screen_text(
                        r.caption, r.transcript, seen.screen_text
                    )
            if self.settings.people and r.no_people and seen.people is not None:
                row["people"] = people_to_text(seen.people)
            if row:
                values[r.id] = row
        return values

    def add_text_vectors(self, values: dict[int, dict[str, object]], embed_text: EmbedText) -> None:
        vectors = embed_text(list(self.captions.values()))
        for (segment_id, caption), vector in zip(self.captions.items(), vectors, strict=True):
            values[segment_id].update(caption=caption, text_vector=pack_f32(vector))
