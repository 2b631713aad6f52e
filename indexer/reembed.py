"""Re-embedding the library into a new model's space, and the swap that makes that space active.

Search must never compare a query embedded by one model with vectors of another. So a newly
trained VideoBERT first becomes the *pending* space (catalog table ``embedding_spaces``):

1. ``begin_transition`` records it (vectors of an older pending space are dropped);
2. ``reembed_video`` fills one ready video's ``next_*`` vectors from its stored clip features
   and captions (no decoding): a Celery task per video in served mode, in-process otherwise;
   ingests committed meanwhile write both spaces (indexer/pipeline.py);
3. ``try_swap``, once every ready video has them, swaps them in with one transaction (each
   video's revision is bumped so vector indexes re-sync, ``embedding_model`` is set, the pending
   record becomes the active one), then rewrites ``VIDSEARCH_HOME/models/active.json``, which
   query-side processes follow (videobert.embedder.ActiveEmbedder). Until then every query and
   every search runs in the old space.

Every step is idempotent: a redelivered task, a second swap attempt or a rerun finds its work
done and says so.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select

from core.arrays import pack_f32, unpack_f16_matrix
from core.catalog import (
    lock_spaces,
    read_spaces,
    set_next_vectors,
    space_progress,
    start_pending_space,
    swap_pending_space,
    videos_missing_space,
)
from core.db import session_scope
from core.models import EmbeddingSpace, Segment, Video, VideoStatus
from core.settings import Settings
from videobert.embedder import Embedder, ModelRef, embedder_for, read_active, write_active

log = logging.getLogger(__name__)

ProgressFn = Callable[[int, int], None]  # (videos done, videos in all)


class Status:
    DONE = "done"  # vectors written
    ALREADY = "already"  # the video already has vectors in the pending space
    STALE = "stale"  # nothing pending, or another space is pending now: nothing to do
    NOT_READY = "not ready"  # the video is gone or not ready (its ingest writes both spaces)


def ref_of(row: EmbeddingSpace | None) -> ModelRef | None:
    """A space record as a ModelRef; None for "whatever the settings configure"."""
    if row is None or row.name is None:
        return None
    return ModelRef(name=row.name, checkpoint=row.checkpoint)


def space_embedder(settings: Settings, ref: ModelRef | None) -> Embedder:
    """The embedder of a space; refuses one whose name this process cannot reproduce (a
    zero-shot space recorded under other settings), rather than mixing spaces."""
    embedder = embedder_for(settings, ref)
    if ref is not None and embedder.name != ref.name:
        raise ValueError(
            f"the catalog's space is {ref.name!r} but these settings embed as "
            f"{embedder.name!r}: use the settings that space was made with"
        )
    return embedder


def segment_vectors(
    embedder: Embedder, clips: Sequence[np.ndarray], captions: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """(video vectors, text vectors) of segments in one space."""
    return embedder.embed_video(list(clips)), embedder.embed_text(list(captions))


def begin_transition(settings: Settings, ref: ModelRef) -> None:
    """Make ``ref`` the pending space (replacing any earlier pending one)."""
    with session_scope(settings) as session:
        start_pending_space(session=session, name=ref.name, checkpoint=ref.checkpoint)
    log.info("pending space is now %s", ref.name)


def pending_space(settings: Settings) -> ModelRef | None:
    with session_scope(settings) as session:
        return ref_of(read_spaces(session=session)[1])


def active_space(settings: Settings) -> ModelRef | None:
    """The catalog's active space (None: the one the settings configure, zero-shot)."""
    with session_scope(settings) as session:
        return ref_of(read_spaces(session=session)[0])


def reembed_video(settings: Settings, video_id: str, *, space: str | None = None) -> str:
    """Give one ready video vectors in the pending space (``space``, when given, must still be
    the pending one). Returns a ``Status``."""
    with session_scope(settings) as session:
        pending = ref_of(read_spaces(session=session)[1])
        if pending is None or (space is not None and pending.name != space):
            return Status.STALE
        video = session.get(Video, video_id)
        if video is None or video.status != VideoStatus.READY:
            return Status.NOT_READY
        if video.next_embedding_model == pending.name:
            return Status.ALREADY
        revision = video.revision
        rows = list(
            session.scalars(
                select(Segment).where(Segment.video_id == video_id).order_by(Segment.index)
            )
        )
        indexes = [s.index for s in rows]
        clips = [unpack_f16_matrix(s.clip_features) for s in rows]
        captions = [s.caption for s in rows]
    video_vecs, text_vecs = segment_vectors(space_embedder(settings, pending), clips, captions)
    with session_scope(settings) as session:
        _, now_pending = lock_spaces(session=session)
        if ref_of(now_pending) != pending:
            return Status.STALE
        video = session.get(Video, video_id)
        if video is None or video.status != VideoStatus.READY:
            return Status.NOT_READY
        if video.revision != revision:  # re-committed meanwhile: its commit wrote both spaces
            return Status.ALREADY if video.next_embedding_model == pending.name else Status.STALE
        set_next_vectors(
            session=session,
            video_id=video_id,
            name=pending.name,
            vectors={
                i: (pack_f32(v), pack_f32(t))
                for i, v, t in zip(indexes, video_vecs, text_vecs, strict=True)
            },
        )
    return Status.DONE


@dataclass(frozen=True)
class SwapResult:
    swapped: bool
    active: str | None  # the active space's name after the attempt (None: as configured)
    missing: int = 0  # ready videos still without vectors in the pending space


def try_swap(settings: Settings, *, index: object | None = None) -> SwapResult:
    """Swap the pending space in if every ready video has its vectors (idempotent; safe to call
    from every re-embed job). ``index``: a vector index (core.vectors.VectorIndex) to re-sync
    after a swap, for a Qdrant server; in-process indexes re-sync themselves by revision."""
    with session_scope(settings) as session:
        swapped = swap_pending_space(session=session)
        if swapped is None:
            active, pending = read_spaces(session=session)
            missing = (
                len(videos_missing_space(session=session, name=pending.name))
                if pending is not None and pending.name
                else 0
            )
            return SwapResult(False, active.name if active else None, missing)
    name, checkpoint = swapped
    write_active(settings, ModelRef(name=name, checkpoint=checkpoint))
    log.info("swapped in %s", name)
    if index is not None:
        with session_scope(settings) as session:
            index.sync_from_catalog(session)  # type: ignore[attr-defined]
    return SwapResult(True, name, 0)


def reconcile_active_file(settings: Settings) -> None:
    """Bring the readers' active-model file in line with the catalog (after a crash between a
    swap's commit and the file's rewrite, or on a machine that never saw the swap)."""
    with session_scope(settings) as session:
        active = ref_of(read_spaces(session=session)[0])
    recorded = read_active(settings)
    if active is not None and active.checkpoint is None:
        active = None  # a configured space: readers follow the settings
    if recorded != active:
        write_active(settings, active)


def progress_of(settings: Settings, name: str) -> tuple[int, int]:
    with session_scope(settings) as session:
        return space_progress(session=session, name=name)


def reembed_library(
    settings: Settings, *, progress: ProgressFn | None = None, index: object | None = None
) -> SwapResult:
    """Embedded mode: re-embed every ready video missing from the pending space, in this
    process, then swap."""
    pending = pending_space(settings)
    if pending is None:
        return try_swap(settings, index=index)
    with session_scope(settings) as session:
        todo = videos_missing_space(session=session, name=pending.name)
    done, total = progress_of(settings, pending.name)
    if progress:
        progress(done, total)
    for video_id in todo:
        status = reembed_video(settings, video_id, space=pending.name)
        if status == Status.STALE:
            break  # another model became pending: its own run finishes the job
        done, total = progress_of(settings, pending.name)
        if progress:
            progress(done, total)
    return try_swap(settings, index=index)


def queue_reembeds(settings: Settings) -> list[str]:
    """Served mode: one re-embed task per ready video missing from the pending space; the last
    one to finish swaps. Returns the queued video ids."""
    from core.queue import send
    from indexer.tasks import REEMBED_TASK

    pending = pending_space(settings)
    if pending is None:
        return []
    with session_scope(settings) as session:
        todo = videos_missing_space(session=session, name=pending.name)
    for video_id in todo:
        send(REEMBED_TASK, video_id, pending.name)
    return todo
