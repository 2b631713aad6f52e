"""The library as people browse it: videos and jobs a page at a time (counted and paged in
SQL), one video with its segments, its file and thumbnails, cards for lists of videos, files
that could not be indexed, re-indexing and removing a video, the health summary, and re-syncing
the vector index from the catalog."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from core import catalog as repo
from core.answers import JobView, SegmentView, VideoDetailView, VideoView
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
from core.job_claims import job_is_alive
from core.looks import looks_from_text
from core.models import Job, Video, VideoStatus
from core.people import people_from_text, screen_lines
from core.settings import Settings
from core.vectors import (
    SyncReport,
    VectorStore,
    index_diff,
    open_vector_store,
    rebuild_from_catalog,
    sync_from_catalog,
    sync_video,
)
from search import describe

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


class FileGone(LookupError):
    """The catalog knows the video but none of its files is on disk any more."""


T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a listing, and how many there are in all."""

    items: list[T]
    total: int


def page_videos(
    settings: Settings, *, status: str | None = None, limit: int | None = None, offset: int = 0
) -> Page[VideoView]:
    """Videos in the order they were added, as video_summary shows them."""
    with session_scope(settings) as session:
        rows = list_videos(session=session, status=status, limit=limit, offset=offset)
        counts = segment_counts(session=session, video_ids=[v.id for v in rows])
        items = [video_summary(v, segments=counts[v.id]) for v in rows]
        total = count_videos(session=session, status=status)
    return Page(items, total)


def page_jobs(settings: Settings, *, limit: int = 200, offset: int = 0) -> Page[JobView]:
    """The newest jobs first."""
    with session_scope(settings) as session:
        items = [job_summary(j) for j in list_jobs(session=session, limit=limit, offset=offset)]
        return Page(items, count_jobs(session=session))


def video_detail(settings: Settings, video_id: str) -> VideoDetailView:
    """One video with its technical details and every segment (LookupError if unknown)."""
    with session_scope(settings) as session:
        v = repo.get_video(session=session, video_id=video_id)
        if v is None:
            raise LookupError(f"no video {video_id}")
        segments = repo.segment_details(session=session, video_id=video_id)
        return {
            **video_summary(v, segments=len(segments)),
            "width": v.width,
            "height": v.height,
            "fps": v.fps,
            "video_codec": v.video_codec,
            "audio_codec": v.audio_codec,
            "segment_list": [_segment_entry(s) for s in segments],
        }


def _segment_entry(segment: repo.SegmentDetail) -> SegmentView:
    # "seen": what people are told a segment shows (search/describe.py): people, hedged tags,
    # looks and the text on screen, never the classifier's raw top classes.
    looks, people = looks_from_text(segment.looks), people_from_text(segment.people)
    return {
        "index": segment.index,
        "start": segment.start,
        "end": segment.end,
        "transcript": segment.transcript,
        "tags": segment.tags,
        "seen": describe.seen_text(segment.tags, looks, people, screen_lines(segment.screen_text)),
        "looks": describe.look_words(looks),
        "people": describe.people_words(people),
        "on_screen": screen_lines(segment.screen_text),
    }


def thumbnail_file(settings: Settings, video_id: str, index: int) -> Path:
    """The JPEG of one segment (LookupError when the segment or its file is missing)."""
    with session_scope(settings) as session:
        rel = repo.segment_thumbnail(session=session, video_id=video_id, index=index)
    if not rel:
        raise LookupError(f"no segment {index} in video {video_id}")
    path = settings.thumbnails_dir / rel
    if not path.is_file():
        raise LookupError(f"thumbnail of segment {index} of video {video_id} is missing")
    return path


def video_cards(
    settings: Settings,
    video_ids: Sequence[str],
    *,
    moments: Mapping[str, int] | None = None,
) -> dict[str, dict[str, Any]]:
    """What a list of videos shows per video, read in two queries: title, duration, status,
    path, and the thumbnail of the given moment (``moments``: video id -> segment index; default
    the first segment) as a path, or None where there is none on disk. Unknown ids are left out."""
    ids = list(dict.fromkeys(video_ids))
    if not ids:
        return {}
    moments = moments or {}
    with session_scope(settings) as session:
        videos = repo.video_headers(session=session, video_ids=ids)
        wanted = [(v, moments.get(v, 0)) for v in ids]
        thumbs = repo.segment_thumbnails(session=session, moments=wanted)
    cards = {}
    for vid, title, duration, status, path, error in videos:
        rel = thumbs.get((vid, moments.get(vid, 0)))
        thumb = settings.thumbnails_dir / rel if rel else None
        cards[vid] = {
            "video_id": vid,
            "title": title,
            "duration": duration,
            "status": status,
            "path": path,
            "error": error,
            "thumbnail": thumb if thumb is not None and thumb.is_file() else None,
        }
    return {v: cards[v] for v in ids if v in cards}


def library_folders(settings: Settings) -> list[str]:
    """The folders that hold ready videos, sorted: what a folder filter offers."""
    with session_scope(settings) as session:
        paths = repo.ready_source_paths(session=session)
    return sorted({str(Path(p).parent) for p in paths})


def library_tags(settings: Settings, *, limit: int = 8) -> list[str]:
    """The visual tags seen in the most ready videos: searches this library can answer."""
    with session_scope(settings) as session:
        rows = repo.ready_segment_tags(session=session)
    videos_per_tag: dict[str, set[str]] = {}
    for video_id, tags in rows:
        for tag in tags.split(","):
            if tag.strip():
                videos_per_tag.setdefault(tag.strip(), set()).add(video_id)
    ranked = sorted(videos_per_tag.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    return [tag for tag, _ in ranked[:limit]]


def failed_files(settings: Settings, *, limit: int = 200) -> list[JobView]:
    """Files whose latest job failed before the catalog had a video for them (not a media file,
    empty, outside the allowed roots, ...), newest first, as job_summary shows the job."""
    with session_scope(settings) as session:
        return [job_summary(j) for j in repo.failed_file_jobs(session=session, limit=limit)]


def forget_failed_file(settings: Settings, path: str) -> int:
    """Drop the failed jobs of a file that never became a video; returns how many went."""
    with session_scope(settings) as session:
        return repo.delete_failed_file_jobs(session=session, path=path)


def _live_owner(session: Session, video: Video) -> Job | None:
    owner = repo.claiming_job(session=session, video=video)
    if owner is not None and job_is_alive(owner):
        return owner
    return None


def reindex_video(settings: Settings, video_id: str) -> list[int]:
    """Index a video again from its file (after a failure, or with new settings): it leaves
    search until the new job commits. Returns the job to start (services.ingest.start).
    LookupError: unknown; FileGone: no file on disk; Busy: a job is indexing it now."""
    with session_scope(settings) as session:
        video = repo.get_video(session=session, video_id=video_id)
        if video is None:
            raise LookupError(f"no video {video_id}")
        owner = _live_owner(session, video)
        if owner is not None:
            raise Busy(f"video {video_id} is being indexed by job {owner.id}")
        path = next(
            (p for p in [video.source_path, *(p.path for p in video.paths)] if Path(p).is_file()),
            None,
        )
        if path is None:
            raise FileGone(f"video {video_id}'s file is gone from {video.source_path}")
        video.status = VideoStatus.PENDING
        video.error = None
        video.claimed_by_job = None
    # Embedded: the job belongs to this process's runner; served: to the workers' queue.
    from services.ingest import create_jobs  # the pipeline's imports (torch, av) only here

    return create_jobs([Path(path)], settings, owned=settings.embedded_tasks)


def browser_copy_path(settings: Settings, video_id: str) -> Path:
    """Where services.playback keeps a video's copy that browsers can play."""
    return settings.cache_dir / "playback" / f"{video_id}.mp4"


def video_file(settings: Settings, video_id: str) -> Path:
    """A path on disk holding the video's bytes: its source, or any other name it was seen
    under (LookupError if unknown, FileGone if none is on disk)."""
    with session_scope(settings) as session:
        v = repo.get_video(session=session, video_id=video_id)
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


def reindex(
    settings: Settings,
    *,
    rebuild: bool = False,
    store: VectorStore | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> tuple[str, SyncReport]:
    """Sync (or drop and rebuild) the vector index from the catalog; returns where it lives and
    what changed. ``store``: the index to mend (the API passes the one it searches); without
    one, in the embedded mode (each process keeps its own index in memory) this only checks the
    catalog's vectors. Segments indexed before the catalog kept class beliefs, looks, on-screen
    text and people get them first, from their stored clip features and thumbnails
    (indexer/backfill.py; ``on_progress(done, total)`` follows the text and people)."""
    from indexer.backfill import backfill_seen, backfill_segments  # heavy: only for work

    backfill_segments(settings)
    backfill_seen(settings, on_progress=on_progress)
    store = store or open_vector_store(settings)
    with session_scope(settings) as session:
        report = (rebuild_from_catalog if rebuild else sync_from_catalog)(store, session)
    where = settings.qdrant_url or "in-process index (embedded mode keeps it in memory)"
    return where, report


def index_status(settings: Settings, store: VectorStore) -> dict[str, Any]:
    """How the index compares with the catalog: points it has, segments of ready videos the
    catalog has, and the videos whose points are missing or stale, and points of no ready video
    (orphans). ``in_sync`` when all three lists are empty."""
    with session_scope(settings) as session:
        diff = index_diff(store, session)
    missing, stale = diff.missing_videos, diff.stale_videos
    orphaned = sorted(diff.orphaned_points)
    return {
        "points": len(diff.actual),
        "segments": len(diff.expected),
        "missing_videos": missing,
        "stale_videos": stale,
        "orphaned_points": orphaned,
        "in_sync": not (missing or stale or orphaned),
    }


class Busy(RuntimeError):
    """A live job is indexing the video right now; the message says which."""


def delete_video(settings: Settings, video_id: str, *, store: VectorStore | None = None) -> None:
    """Remove a video from the library: its catalog rows (segments, paths, events, summaries)
    and the jobs that indexed it, in one transaction; then its thumbnails, its points in
    ``store`` (or in a Qdrant server; in-process indexes of other processes re-sync
    themselves), and the file itself only when it is an upload kept under
    ``VIDSEARCH_HOME/uploads`` (files people pointed at stay where they are).
    LookupError: unknown; Busy: a live job is indexing it."""
    with session_scope(settings) as session:
        video = repo.get_video(session=session, video_id=video_id, for_update=True)
        if video is None:
            raise LookupError(f"no video {video_id}")
        owner = _live_owner(session, video)
        if owner is not None:
            raise Busy(f"video {video_id} is being indexed by job {owner.id}; try again later")
        files = [Path(video.source_path), *(Path(p.path) for p in video.paths)]
        repo.remove_video(session=session, video=video)
    targets = [store] if store is not None else []
    if settings.qdrant_url and store is None:
        targets.append(open_vector_store(settings))
    for target in targets:
        with session_scope(settings) as session:
            sync_video(target, session, video_id)
    shutil.rmtree(settings.thumbnails_dir / video_id, ignore_errors=True)
    browser_copy_path(settings, video_id).unlink(missing_ok=True)
    uploads = settings.uploads_dir.resolve()
    for f in dict.fromkeys(files):
        resolved = f.resolve()
        if resolved.is_relative_to(uploads) and resolved.is_file():
            resolved.unlink()
            if resolved.parent != uploads and not any(resolved.parent.iterdir()):
                resolved.parent.rmdir()
