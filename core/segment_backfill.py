"""The catalog side of filling in what segments indexed before the catalog kept it still lack
(class beliefs and looks; on-screen text and people): which segments, a batch at a time, and
writing what was found with a new revision for their videos (indexer/backfill.py computes it)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

from sqlalchemy import ColumnElement, false, func, or_, select, update
from sqlalchemy.orm import Session

from core.models import Segment, Video


class LacksBeliefsOrLooks(NamedTuple):
    id: int
    video_id: str
    clip_features: bytes
    thumbnail: str | None
    no_beliefs: bool
    no_looks: bool


class LacksSeen(NamedTuple):
    id: int
    video_id: str
    thumbnail: str | None
    caption: str
    transcript: str
    no_screen_text: bool
    no_people: bool


def segments_lacking_beliefs_or_looks(*, session: Session, limit: int) -> list[LacksBeliefsOrLooks]:
    """The first ``limit`` segments (by id) without class beliefs or without looks."""
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
        .limit(limit)
    ).all()
    return [LacksBeliefsOrLooks(*row) for row in rows]


def _lacking_seen(screen_text: bool, people: bool) -> ColumnElement[bool]:
    conditions = []
    if screen_text:
        conditions.append(Segment.screen_text.is_(None))
    if people:
        conditions.append(Segment.people.is_(None))
    return or_(*conditions) if conditions else false()


def count_segments_lacking_seen(*, session: Session, screen_text: bool, people: bool) -> int:
    """How many segments have not been read for on-screen text (when ``screen_text``) or
    looked at for people (when ``people``)."""
    wanted = _lacking_seen(screen_text, people)
    return int(session.scalar(select(func.count(Segment.id)).where(wanted)) or 0)


def segments_lacking_seen(
    *, session: Session, screen_text: bool, people: bool, after_id: int, limit: int
) -> list[LacksSeen]:
    """The next ``limit`` segments after ``after_id`` (by id) that count_segments_lacking_seen
    counts; paging by id moves past a segment whose detectors failed (it stays to do)."""
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
        .where(_lacking_seen(screen_text, people), Segment.id > after_id)
        .order_by(Segment.id)
        .limit(limit)
    ).all()
    return [LacksSeen(*row) for row in rows]


def update_segment(*, session: Session, segment_id: int, values: Mapping[str, object]) -> None:
    """Set the given columns of one segment."""
    session.execute(update(Segment).where(Segment.id == segment_id).values(**values))


def bump_revisions(*, session: Session, video_ids: Sequence[str]) -> None:
    """A new revision for each video: every process's index sees it changed and rewrites it."""
    session.execute(
        update(Video).where(Video.id.in_(video_ids)).values(revision=Video.revision + 1)
    )
