"""Register: check the path, hash the bytes in a stream (the dedupe key), probe the media."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from core.errors import BadInput
from core.settings import Settings
from indexer.media import MediaInfo, probe
from indexer.paths import check_inside_roots

HASH_CHUNK = 1 << 20


@dataclass(frozen=True)
class Registered:
    path: Path
    content_hash: str
    size: int
    info: MediaInfo

    @property
    def video_id(self) -> str:
        return video_id_for(self.content_hash)


def video_id_for(content_hash: str) -> str:
    return content_hash[:16]


def check_path(path: Path, settings: Settings, *, confined: bool = False) -> Path:
    """The resolved path (symlinks and ``..`` followed), or BadInput saying why it cannot be
    ingested. ``confined`` (asked for over HTTP): it must lie under the HTTP roots, checked
    before anything else, so a refusal never says whether a file outside exists."""
    # The check resolves the path itself; its refusal names the path as given (a link, not
    # where it leads: that would tell a caller about files outside the roots).
    check_inside_roots(
        path.expanduser(), settings.http_roots if confined else settings.ingest_roots
    )
    resolved = path.expanduser().resolve()
    if not resolved.exists():
        raise BadInput(path, "file does not exist")
    if not resolved.is_file():
        raise BadInput(path, "not a regular file")
    size = resolved.stat().st_size
    if size == 0:
        raise BadInput(path, "empty file (0 bytes)")
    if size > settings.max_file_bytes:
        raise BadInput(path, f"file is {size} bytes, over the limit of {settings.max_file_bytes}")
    return resolved


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def register(path: Path, settings: Settings, *, confined: bool = False) -> Registered:
    resolved = check_path(path, settings, confined=confined)
    # Probe before hashing: a file refused for what it declares costs no full read.
    info = probe(resolved, max_pixels=settings.max_frame_pixels)
    if info.duration > settings.max_duration_seconds:
        raise BadInput(
            resolved,
            f"video lasts {info.duration:.0f} s, over the limit of "
            f"{settings.max_duration_seconds:.0f} s (VIDSEARCH_MAX_DURATION_SECONDS)",
        )
    content_hash = sha256_file(resolved)
    return Registered(resolved, content_hash, resolved.stat().st_size, info)
