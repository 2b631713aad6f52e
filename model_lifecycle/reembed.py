"""Re-embedding the library into a new model's space, and the swap that makes that space active.

Search must never compare a query embedded by one model with vectors of another. So a newly
trained VideoBERT first becomes the *pending* space (catalog table ``embedding_spaces``):

1. ``begin_transition`` records it (vectors of an older pending space are dropped);
2. ``reembed_video`` fills one ready video's ``next_*`` vectors from its stored clip features
   and captions (no decoding): a Celery task per video in served mode, in-process otherwise;
   ingests committed meanwhile write both spaces (indexer/commit.py). A pending space that
   reads pictures with another vision model (a switch: services/model_switch.py) cannot use
   the stored features: the video is decoded again (``redecode``) and its clips' new features
   are kept beside the vectors, swapped in with them;
3. ``try_swap``, once every ready video has them, swaps them in with one transaction (each
   video's revision is bumped so vector indexes re-sync, ``embedding_model`` is set, the pending
   record becomes the active one), then rewrites ``VIDSEARCH_HOME/models/active.json``, which
   query-side processes follow (model_lifecycle/active.py). Until then every query and
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

from core.arrays import pack_f16_matrix, pack_f32, unpack_f16_matrix
from core.db import session_scope
from core.models import Segment, Video, VideoStatus
from core.settings import Settings
from core.vectors import VectorStore, sync_from_catalog
from model_lifecycle.active import space_embedder, vision_of, write_active
from model_lifecycle.spaces import (
    ModelRef,
    lock_spaces,
    pending_space,
    progress_of,
    read_spaces,
    ref_of,
    set_next_vectors,
    swap_pending_space,
    videos_missing_space,
)
from videobert.embedder import Embedder

log = logging.getLogger(__name__)

ProgressFn = Callable[[int, int], None]  # (videos done, videos in all)
# (video id, [(segment start, end, clips)]) -> per segment its clips' uint8 RGB pictures
Redecode = Callable[[str, Sequence[tuple[float, float, int]]], list[np.ndarray]]


class Status:
    DONE = "done"  # vectors written
    ALREADY = "already"  # the video already has vectors in the pending space
    STALE = "stale"  # nothing pending, or another space is pending now: nothing to do
    NOT_READY = "not ready"  # the video is gone or not ready (its ingest writes both spaces)


def segment_vectors(
    embedder: Embedder, clips: Sequence[np.ndarray], captions: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """(video vectors, text vectors) of segments in one space."""
    return embedder.embed_video(list(clips)), embedder.embed_text(list(captions))


def needs_decoding(settings: Settings, active: ModelRef | None, pending: ModelRef) -> bool:
    """Whether the pending space reads pictures with another model than the stored clip
    features were made by (the active space's)."""
    from videobert.options import ModelOptions

    options = ModelOptions.from_settings(settings)
    return vision_of(options, pending) != vision_of(options, active)


def reembed_video(
    settings: Settings,
    video_id: str,
    *,
    space: str | None = None,
    redecode: Redecode | None = None,
) -> str:
    """Give one ready video vectors in the pending space (``space``, when given, must still be
    the pending one). Returns a ``Status``. ``redecode`` reads the clips' pictures from the file
    when the pending space needs its own features (see needs_decoding)."""
    with session_scope(settings) as session:
        active_row, pending_row = read_spaces(session=session)
        pending = ref_of(pending_row)
        if pending is None or (space is not None and pending.name != space):
            return Status.STALE
        decode = needs_decoding(settings, ref_of(active_row), pending)
        if decode and redecode is None:
            raise ValueError(
                f"space {pending.name} reads pictures with another model: re-embedding into it "
                "decodes the videos again (services/model_switch.py)"
            )
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
        bounds = [(s.start, s.end, max(1, s.n_clips)) for s in rows]
    embedder = space_embedder(settings, pending)
    new_features: dict[int, bytes] | None = None
    if decode:
        assert redecode is not None
        pictures = redecode(video_id, bounds)
        clips = [embedder.encode_frames(p).features for p in pictures]
        new_features = {i: pack_f16_matrix(c) for i, c in zip(indexes, clips, strict=True)}
    video_vecs, text_vecs = segment_vectors(embedder, clips, captions)
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
            clip_features=new_features,
        )
    return Status.DONE


@dataclass(frozen=True)
class SwapResult:
    swapped: bool
    active: str | None  # the active space's name after the attempt (None: as configured)
    missing: int = 0  # ready videos still without vectors in the pending space


def try_swap(settings: Settings, *, store: VectorStore | None = None) -> SwapResult:
    """Swap the pending space in if every ready video has its vectors (idempotent; safe to call
    from every re-embed job). ``store``: a Qdrant server's store to re-sync after a swap;
    in-process stores re-sync themselves by revision."""
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
    write_active(settings.home, swapped)
    name = swapped.name
    log.info("swapped in %s", name)
    if store is not None:
        with session_scope(settings) as session:
            sync_from_catalog(store, session)
    return SwapResult(True, name, 0)


def reembed_library(
    settings: Settings,
    *,
    progress: ProgressFn | None = None,
    store: VectorStore | None = None,
    redecode: Redecode | None = None,
    failed: Callable[[str, Exception], None] | None = None,
) -> SwapResult:
    """Embedded mode: re-embed every ready video missing from the pending space, in this
    process, then swap. Videos indexed meanwhile are taken too (an ingest during a switch
    writes only the active space). ``failed``: told of a video that could not be re-embedded
    (it is then left, and the swap waits for it), else the error is raised."""
    pending = pending_space(settings)
    if pending is None:
        return try_swap(settings, store=store)
    skipped: set[str] = set()
    while True:
        with session_scope(settings) as session:
            todo = [
                v
                for v in videos_missing_space(session=session, name=pending.name)
                if v not in skipped
            ]
        if progress:
            progress(*progress_of(settings, pending.name))
        if not todo:
            break
        for video_id in todo:
            try:
                status = reembed_video(settings, video_id, space=pending.name, redecode=redecode)
            except Exception as exc:
                if failed is None:
                    raise
                failed(video_id, exc)
                skipped.add(video_id)
                continue
            if status == Status.STALE:
                return try_swap(settings, store=store)  # another model is pending now
            if progress:
                progress(*progress_of(settings, pending.name))
    return try_swap(settings, store=store)
