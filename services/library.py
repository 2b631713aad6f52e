"""The library as people browse it: videos and jobs a page at a time (counted and paged in
SQL), one video with its segments, its file and thumbnails, the health summary, and re-syncing
the vector index from the catalog."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from core.catalog import (
    count_jobs,
    count_videos,
    job_summary,
    list_jobs,
    list_videos,
    segment_counts,
    video_summary,
)
from core.db import session_scope
from core.models import Segment, Video, VideoStatus
from core.settings import Settings
from core.vectors import SyncReport, open_vector_store, rebuild_from_catalog, sync_from_catalog


class FileGone(LookupError):
    """The catalog knows the video but none of its files is on disk any more."""


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    total: int


def page_videos(
    settings: Settings, *, status: str | None = None, limit: int | None = None, offset: int = 0
) -> Page:
    """Videos in the order they were added, as video_summary shows them."""
    with session_scope(settings) as session:
        rows = list_videos(session=session, status=status, limit=limit, offset=offset)
        counts = segment_counts(session=session, video_ids=[v.id for v in rows])
        items = [video_summary(v, segments=counts[v.id]) for v in rows]
        total = count_videos(session=session, status=status)
    return Page(items, total)


def page_jobs(settings: Settings, *, limit: int = 200, offset: int = 0) -> Page:
    """The newest jobs first."""
    with session_scope(settings) as session:
        items = [job_summary(j) for j in list_jobs(session=session, limit=limit, offset=offset)]
        return Page(items, count_jobs(session=session))


def video_detail(settings: Settings, video_id: str) -> dict[str, Any]:
    """One video with its technical details and every segment (LookupError if unknown)."""
    with session_scope(settings) as session:
        v = session.get(Video, video_id)
        if v is None:
            raise LookupError(f"no video {video_id}")
        segments = list(
            session.execute(
                select(Segment.index, Segment.start, Segment.end, Segment.transcript, Segment.tags)
                .where(Segment.video_id == video_id)
                .order_by(Segment.index)
            ).all()
        )
        return {
            **video_summary(v, segments=len(segments)),
            "width": v.width,
            "height": v.height,
            "fps": v.fps,
            "video_codec": v.video_codec,
            "audio_codec": v.audio_codec,
            "segment_list": [
                {"index": i, "start": s, "end": e, "transcript": t, "tags": g}
                for i, s, e, t, g in segments
            ],
        }


def thumbnail_file(settings: Settings, video_id: str, index: int) -> Path:
    """The JPEG of one segment (LookupError when the segment or its file is missing)."""
    with session_scope(settings) as session:
        rel = session.scalar(
            select(Segment.thumbnail).where(Segment.video_id == video_id, Segment.index == index)
        )
    if not rel:
        raise LookupError(f"no segment {index} in video {video_id}")
    path = settings.thumbnails_dir / rel
    if not path.is_file():
        raise LookupError(f"thumbnail of segment {index} of video {video_id} is missing")
    return path


def video_file(settings: Settings, video_id: str) -> Path:
    """A path on disk holding the video's bytes: its source, or any other name it was seen
    under (LookupError if unknown, FileGone if none is on disk)."""
    with session_scope(settings) as session:
        v = session.get(Video, video_id)
        if v is None:
            raise LookupError(f"no video {video_id}")
        candidates = [v.source_path] + [p.path for p in v.paths]
    for candidate in candidates:
        if Path(candidate).is_file():
            return Path(candidate)
    raise FileGone(f"video {video_id}'s file is gone from {candidates[0]}")


def health(settings: Settings) -> dict[str, Any]:
    with session_scope(settings) as session:
        ready = count_videos(session=session, status=VideoStatus.READY)
    return {
        "status": "ok",
        "videos": ready,
        "mode": "embedded" if settings.embedded_tasks else "served",
    }


def reindex(settings: Settings, *, rebuild: bool = False) -> tuple[str, SyncReport]:
    """Sync (or drop and rebuild) the vector index from the catalog; returns where it lives and
    what changed. In the embedded mode each process keeps its own index in memory, so this
    checks the catalog's vectors rather than changing a shared index."""
    store = open_vector_store(settings)
    with session_scope(settings) as session:
        report = (rebuild_from_catalog if rebuild else sync_from_catalog)(store, session)
    where = settings.qdrant_url or "in-process index (embedded mode keeps it in memory)"
    return where, report
