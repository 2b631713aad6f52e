"""Embedding spaces in the catalog: the ``active`` space every ready video's vectors are in,
and the ``pending`` one being filled by a re-embed, swapped in for every ready video at once so
search never compares vectors of two models.

Every writer whose decision depends on which space is active or pending (an ingest's commit, a
re-embed, the swap) calls ``lock_spaces`` first in its transaction: the UPDATE row-locks the
'active' row on PostgreSQL and takes SQLite's write lock, so those writers run one at a time and
each reads the spaces as they are when it commits.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core.db import session_scope
from core.models import EmbeddingSpace, Segment, SpaceRole, Video, VideoStatus, utcnow
from core.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelRef:
    """A vector space: its embedder's name, for a trained VideoBERT its checkpoint folder
    (relative to VIDSEARCH_HOME where it lies under it), and the vision-language model that
    reads its pictures (None: the shipped EfficientNet-Lite0)."""

    name: str
    checkpoint: str | None = None
    vision: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "checkpoint": self.checkpoint, "vision": self.vision}


def ref_of(row: EmbeddingSpace | None) -> ModelRef | None:
    """A space record as a ModelRef; None for "whatever the settings configure"."""
    if row is None or row.name is None:
        return None
    return ModelRef(name=row.name, checkpoint=row.checkpoint, vision=row.vision_model)


def lock_spaces(*, session: Session) -> tuple[EmbeddingSpace, EmbeddingSpace | None]:
    """Lock the space records for this transaction; returns (active, pending or None)."""
    locked = session.execute(
        update(EmbeddingSpace)
        .where(EmbeddingSpace.role == SpaceRole.ACTIVE)
        .values(updated_at=EmbeddingSpace.updated_at)
        .execution_options(synchronize_session=False)
    )
    if locked.rowcount == 0:  # type: ignore[attr-defined]  # a catalog whose row was deleted
        session.add(EmbeddingSpace(role=SpaceRole.ACTIVE))
        session.flush()
    active = session.get(EmbeddingSpace, SpaceRole.ACTIVE, populate_existing=True)
    pending = session.get(EmbeddingSpace, SpaceRole.PENDING, populate_existing=True)
    assert active is not None
    return active, pending


def read_spaces(*, session: Session) -> tuple[EmbeddingSpace | None, EmbeddingSpace | None]:
    """The space records without locking them (for planning; decide under lock_spaces)."""
    return (
        session.get(EmbeddingSpace, SpaceRole.ACTIVE),
        session.get(EmbeddingSpace, SpaceRole.PENDING),
    )


def _clear_pending_vectors(session: Session) -> None:
    """Drop every video's vectors (and clip features) of a pending space."""
    session.execute(
        update(Segment)
        .where(Segment.next_video_vector.is_not(None) | Segment.next_clip_features.is_not(None))
        .values(next_video_vector=None, next_text_vector=None, next_clip_features=None)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Video)
        .where(Video.next_embedding_model.is_not(None))
        .values(next_embedding_model=None)
        .execution_options(synchronize_session=False)
    )


def start_pending_space(
    *, session: Session, name: str, checkpoint: str | None, vision: str | None = None
) -> None:
    """Make ``name`` the pending space; vectors of an earlier pending space are dropped."""
    _, pending = lock_spaces(session=session)
    _clear_pending_vectors(session)
    if pending is None:
        pending = EmbeddingSpace(role=SpaceRole.PENDING)
        session.add(pending)
    pending.name, pending.checkpoint, pending.updated_at = name, checkpoint, utcnow()
    pending.vision_model = vision
    session.flush()


def drop_pending_space(*, session: Session) -> ModelRef | None:
    """Give up the pending space (a switch the settings no longer ask for): its vectors are
    dropped, the active space stays. Returns what was pending."""
    _, pending = lock_spaces(session=session)
    if pending is None:
        return None
    dropped = ref_of(pending)
    _clear_pending_vectors(session)
    session.delete(pending)
    session.flush()
    return dropped


def name_active_space(*, session: Session, ref: ModelRef) -> None:
    """Record what the active space is where the catalog has not named it yet (a library made
    before spaces named their vision model), so readers keep to it through a switch."""
    active, _ = lock_spaces(session=session)
    if active.name is None:
        active.name, active.checkpoint, active.vision_model = ref.name, ref.checkpoint, ref.vision
        active.updated_at = utcnow()
        session.flush()


def set_next_vectors(
    *,
    session: Session,
    video_id: str,
    name: str,
    vectors: dict[int, tuple[bytes, bytes]],
    clip_features: dict[int, bytes] | None = None,
) -> None:
    """Store a video's vectors in the pending space ``name``: {segment index: (video, text)},
    and, when that space reads pictures with another model, its clip features."""
    video = session.get(Video, video_id)
    if video is None:
        raise LookupError(f"video {video_id} does not exist")
    segments = list(session.scalars(select(Segment).where(Segment.video_id == video_id)))
    if {s.index for s in segments} != set(vectors):
        raise ValueError(
            f"video {video_id} has segments {sorted(s.index for s in segments)}, "
            f"vectors came for {sorted(vectors)}"
        )
    for seg in segments:
        seg.next_video_vector, seg.next_text_vector = vectors[seg.index]
        if clip_features is not None:
            seg.next_clip_features = clip_features[seg.index]
    video.next_embedding_model = name
    session.flush()


def videos_missing_space(*, session: Session, name: str) -> list[str]:
    """Ready videos without vectors in the space ``name``."""
    return list(
        session.scalars(
            select(Video.id)
            .where(Video.status == VideoStatus.READY)
            .where((Video.next_embedding_model != name) | Video.next_embedding_model.is_(None))
            .order_by(Video.id)
        )
    )


def space_progress(*, session: Session, name: str) -> tuple[int, int]:
    """(ready videos with vectors in the space ``name``, ready videos)."""
    ready = Video.status == VideoStatus.READY
    total = session.scalar(select(func.count(Video.id)).where(ready)) or 0
    done = (
        session.scalar(
            select(func.count(Video.id)).where(ready).where(Video.next_embedding_model == name)
        )
        or 0
    )
    return int(done), int(total)


def swap_pending_space(*, session: Session) -> ModelRef | None:
    """If every ready video has vectors in the pending space, make it the active one in this
    transaction: vectors swapped in, each video's revision bumped (so the vector index
    re-syncs) and its embedding_model set. Returns the new active space, or None when nothing
    is pending or some ready video is still missing (see videos_missing_space)."""
    active, pending = lock_spaces(session=session)
    if pending is None or pending.name is None:
        return None
    if videos_missing_space(session=session, name=pending.name):
        return None
    ready = select(Video.id).where(Video.status == VideoStatus.READY).scalar_subquery()
    session.execute(
        update(Segment)
        .where(Segment.video_id.in_(ready))
        .values(
            video_vector=Segment.next_video_vector,
            text_vector=Segment.next_text_vector,
            # A space of another vision model brings its clips' features along.
            clip_features=func.coalesce(Segment.next_clip_features, Segment.clip_features),
            next_video_vector=None,
            next_text_vector=None,
            next_clip_features=None,
        )
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Video)
        .where(Video.status == VideoStatus.READY)
        .values(
            revision=Video.revision + 1,
            embedding_model=pending.name,
            next_embedding_model=None,
        )
        .execution_options(synchronize_session=False)
    )
    swapped = ModelRef(pending.name, pending.checkpoint, pending.vision_model)
    active.name, active.checkpoint, active.updated_at = pending.name, pending.checkpoint, utcnow()
    active.vision_model = pending.vision_model
    session.delete(pending)
    session.flush()
    session.expire_all()  # rows loaded before the bulk updates are stale now
    return swapped


# --- the same, each in its own transaction -------------------------------------------------------
def begin_transition(settings: Settings, ref: ModelRef) -> None:
    """Make ``ref`` the pending space (replacing any earlier pending one)."""
    with session_scope(settings) as session:
        start_pending_space(
            session=session, name=ref.name, checkpoint=ref.checkpoint, vision=ref.vision
        )
    log.info("pending space is now %s", ref.name)


def pending_space(settings: Settings) -> ModelRef | None:
    with session_scope(settings) as session:
        return ref_of(read_spaces(session=session)[1])


def active_space(settings: Settings) -> ModelRef | None:
    """The catalog's active space (None: the one the settings configure, zero-shot)."""
    with session_scope(settings) as session:
        return ref_of(read_spaces(session=session)[0])


def progress_of(settings: Settings, name: str) -> tuple[int, int]:
    with session_scope(settings) as session:
        return space_progress(session=session, name=name)
