"""Commit: thumbnails into their folder, then one catalog transaction that flips the video to
``ready`` last, then the vector sync. Nobody ever sees half a video."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from core import faults
from core.arrays import pack_f16_matrix, pack_f32
from core.beliefs import beliefs_to_text
from core.ingest_records import ClaimLost, write_ready_video
from core.job_claims import finish_job
from core.looks import looks_to_text
from core.models import Segment
from core.people import people_to_text
from indexer.embed import EmbeddedSegment, SpaceVectors
from model_lifecycle.spaces import ModelRef, name_active_space, set_next_vectors

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

# ClaimLost and finish_job live in core now; named here still for the callers that import them
# from the commit stage (bench/coordination.py).
__all__ = [
    "ClaimLost",
    "attempt_dir",
    "commit_in_spaces",
    "commit_video",
    "finish_job",
    "prune_thumbnails",
    "segment_rows",
    "write_thumbnails",
]


def attempt_dir(thumbnails_root: Path, video_id: str, job_id: int, attempt: int) -> Path:
    return thumbnails_root / video_id / f"job{job_id}-a{attempt}"


def write_thumbnails(folder: Path, segments: Sequence[EmbeddedSegment]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for seg in segments:
        faults.point("thumbnail")  # a full disk, say
        path = folder / f"{seg.planned.index:05d}.jpg"
        path.write_bytes(seg.planned.thumbnail_jpeg)
        paths.append(path)
    return paths


def prune_thumbnails(thumbnails_root: Path, video_id: str, keep: str | None) -> None:
    """Remove every thumbnail folder of a video but the committed one (crashed attempts leave some)."""
    root = thumbnails_root / video_id
    if not root.is_dir():
        return
    for child in root.iterdir():
        if child.name != keep:
            shutil.rmtree(child, ignore_errors=True) if child.is_dir() else child.unlink(
                missing_ok=True
            )
    if keep is None:
        shutil.rmtree(root, ignore_errors=True)


def segment_rows(
    video_id: str, segments: Sequence[EmbeddedSegment], thumbnail_folder: str
) -> list[Segment]:
    """The catalog rows of a video's embedded segments (``thumbnail_folder`` relative to the
    thumbnails root)."""
    rel = Path(thumbnail_folder)
    return [
        Segment(
            video_id=video_id,
            index=s.planned.index,
            shot_index=s.planned.shot_index,
            start=s.planned.start,
            end=s.planned.end,
            thumbnail=str(rel / f"{s.planned.index:05d}.jpg"),
            transcript=s.transcript,
            tags=", ".join(s.tags),
            caption=s.caption,
            n_clips=len(s.planned.clip_features),
            video_vector=pack_f32(s.video_vector),
            text_vector=pack_f32(s.text_vector),
            clip_features=pack_f16_matrix(s.planned.clip_features),
            class_beliefs=beliefs_to_text(s.beliefs),
            looks=looks_to_text(s.planned.looks),
            screen_text=None if s.planned.screen_text is None else "\n".join(s.planned.screen_text),
            people=None if s.planned.people is None else people_to_text(s.planned.people),
        )
        for s in segments
    ]


def commit_video(
    *,
    session: Session,
    video_id: str,
    job_id: int,
    segments: Sequence[EmbeddedSegment],
    thumbnails_root: Path,
    thumbnail_folder: Path,
    embedding_model: str,
) -> int:
    """Write segments and flip the video to ready; returns the new revision (ClaimLost when
    another job holds the video now). The job itself is finished by the caller, in the same
    transaction.

    The caller's session commits; on any error it rolls back and the catalog is unchanged.
    """
    rel = thumbnail_folder.relative_to(thumbnails_root)
    return write_ready_video(
        session=session,
        video_id=video_id,
        job_id=job_id,
        segments=segment_rows(video_id, segments, str(rel)),
        embedding_model=embedding_model,
    )


def commit_in_spaces(
    session: Session,
    spaces: SpaceVectors,
    *,
    video_id: str,
    job_id: int,
    segments: Sequence[EmbeddedSegment],
    thumbnails_root: Path,
    thumbnail_folder: Path,
) -> None:
    """Write the segments with the active space's vectors (and the pending space's), in the
    caller's transaction; raises SpacesMoved when a space this ingest has no vectors for
    became active or pending (the caller embeds in it and commits again)."""
    active, pending = spaces.needed(session)
    if spaces.follows_spaces and isinstance(spaces.pictures, str):
        # A library's first vision-language vectors name its space, vision model and all, so
        # a later change of VIDSEARCH_VISION_MODEL is seen as a switch (services/model_switch.py).
        name_active_space(session=session, ref=ModelRef(active, None, spaces.pictures))
    video, text = spaces.vectors[active]
    rows = [
        replace(s, video_vector=v, text_vector=t)
        for s, v, t in zip(segments, video, text, strict=True)
    ]
    commit_video(
        session=session,
        video_id=video_id,
        job_id=job_id,
        segments=rows,
        thumbnails_root=thumbnails_root,
        thumbnail_folder=thumbnail_folder,
        embedding_model=active,
    )
    if pending is not None:
        next_video, next_text = spaces.vectors[pending]
        set_next_vectors(
            session=session,
            video_id=video_id,
            name=pending,
            vectors={
                s.planned.index: (pack_f32(v), pack_f32(t))
                for s, v, t in zip(segments, next_video, next_text, strict=True)
            },
        )
