"""Commit: thumbnails into their folder, then one catalog transaction that flips the video to
``ready`` last, then the vector sync. Nobody ever sees half a video."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from sqlalchemy.orm import Session

from core import faults
from core.arrays import pack_f16_matrix, pack_f32
from core.beliefs import beliefs_to_text
from core.catalog import replace_segments
from core.looks import looks_to_text
from core.models import Job, JobStatus, Segment, Video, VideoStatus, utcnow
from core.people import people_to_text
from indexer.embed import EmbeddedSegment, SpaceVectors
from model_lifecycle.spaces import set_next_vectors


class ClaimLost(Exception):
    """Another job took the video over (ours was presumed dead); our results are dropped."""


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
    """Write segments, flip the video to ready and the job to succeeded; returns the new revision.

    The caller's session commits; on any error it rolls back and the catalog is unchanged.
    """
    video = session.get(Video, video_id, with_for_update=True)
    if video is None or video.claimed_by_job != job_id:
        raise ClaimLost(f"video {video_id} is no longer claimed by job {job_id}")
    rel = thumbnail_folder.relative_to(thumbnails_root)
    rows = [
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
    replace_segments(session=session, video_id=video_id, segments=rows)
    video.has_speech = any(s.transcript.strip() for s in segments)
    video.embedding_model = embedding_model
    video.revision = (video.revision or 0) + 1
    video.error = None
    video.indexed_at = utcnow()
    # Last: the flip that makes the video visible.
    video.status = VideoStatus.READY
    job = session.get(Job, job_id)
    if job is not None:
        job.video_id = video_id
    session.flush()
    return video.revision


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


def finish_job(job: Job, *, status: str, note: str | None = None, error: str | None = None) -> None:
    job.status = status
    job.note = note
    job.error = error
    job.finished_at = utcnow()
    if status in (JobStatus.SUCCEEDED, JobStatus.SKIPPED):
        # Nothing is left to do for either: a skipped job is not stuck at 0 %.
        job.progress = 1.0
        job.stage = "done"
