"""Playing a video in a browser: the file itself when browsers can decode it, else a copy
re-encoded once as H.264 MP4 (kept under ``VIDSEARCH_HOME/cache/playback``, same timestamps)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from core.catalog import get_video
from core.db import session_scope
from core.settings import Settings
from indexer.media import transcode_for_browser
from indexer.paths import media_type
from services.library import browser_copy_path, video_file

# What every current browser decodes, by the container name FFmpeg reports.
_MP4 = "mov,mp4,m4a,3gp,3g2,mj2"
_BROWSER_VIDEO = {_MP4: {"h264", "av1", "vp9"}, "matroska,webm": {"vp8", "vp9", "av1"}}
_BROWSER_AUDIO = {None, "aac", "mp3", "opus", "vorbis"}
_SUFFIXES = {_MP4: {".mp4", ".m4v", ".mov"}, "matroska,webm": {".webm"}}
_MIME = {_MP4: "video/mp4", "matroska,webm": "video/webm"}

_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


@dataclass(frozen=True)
class Playable:
    path: Path
    mimetype: str
    converted: bool  # a browser copy, not the original file


def original_file(settings: Settings, video_id: str) -> tuple[Path, str]:
    """The video's own file on disk and its media type, as the HTTP stream serves it (LookupError
    for an unknown video, FileGone when its file is gone)."""
    path = video_file(settings, video_id)
    return path, media_type(path)


def browser_mimetype(
    container: str | None, video_codec: str | None, audio_codec: str | None, suffix: str
) -> str | None:
    """The media type to serve the file as, or None when browsers cannot play it as it is."""
    if container is None or video_codec not in _BROWSER_VIDEO.get(container, ()):
        return None
    if audio_codec not in _BROWSER_AUDIO or suffix.lower() not in _SUFFIXES[container]:
        return None
    return _MIME[container]


def _codecs(settings: Settings, video_id: str) -> tuple[str | None, str | None, str | None]:
    with session_scope(settings) as session:
        video = get_video(session=session, video_id=video_id)
        if video is None:
            raise LookupError(f"no video {video_id}")
        return video.container, video.video_codec, video.audio_codec


def needs_conversion(settings: Settings, video_id: str) -> bool:
    """True when the first play will re-encode the file (the copy is not there yet)."""
    source = video_file(settings, video_id)
    if browser_mimetype(*_codecs(settings, video_id), source.suffix):
        return False
    copy = browser_copy_path(settings, video_id)
    return not (copy.is_file() and copy.stat().st_mtime >= source.stat().st_mtime)


def playable_file(
    settings: Settings, video_id: str, *, on_progress: Callable[[float], object] | None = None
) -> Playable:
    """The file a browser can play for this video, making the browser copy if it is missing
    (LookupError: unknown video; services.library.FileGone: no file on disk)."""
    source = video_file(settings, video_id)
    mimetype = browser_mimetype(*_codecs(settings, video_id), source.suffix)
    if mimetype is not None:
        return Playable(source, mimetype, converted=False)
    copy = browser_copy_path(settings, video_id)
    with _locks_guard:
        lock = _locks.setdefault(video_id, threading.Lock())
    with lock:  # two viewers asking at once make one copy
        if not (copy.is_file() and copy.stat().st_mtime >= source.stat().st_mtime):
            copy.parent.mkdir(parents=True, exist_ok=True)
            partial = copy.with_name(f".{copy.name}.{os.getpid()}.part")
            try:
                transcode_for_browser(source, partial, on_progress=on_progress)
                os.replace(partial, copy)
            finally:
                partial.unlink(missing_ok=True)
    return Playable(copy, "video/mp4", converted=True)


def player_length(settings: Settings, video_id: str) -> float | None:
    """The length a browser's player shows for this video (the file it plays, offset included),
    or the catalog's duration when the file cannot be read."""
    from indexer.media import player_length as file_length

    try:
        source = video_file(settings, video_id)
    except LookupError:
        return None
    copy = browser_copy_path(settings, video_id)
    played = copy if copy.is_file() and copy.stat().st_mtime >= source.stat().st_mtime else source
    length = file_length(played)
    if length is not None:
        return length
    with session_scope(settings) as session:
        video = get_video(session=session, video_id=video_id)
        return video.duration if video is not None else None
