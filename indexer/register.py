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


def check_path(path: Path, settings: Settings) -> Path:
    """The resolved path, or BadInput saying why it cannot be ingested."""
    resolved = path.expanduser().resolve()
    if not resolved.exists():
        raise BadInput(path, "file does not exist")
    if not resolved.is_file():
        raise BadInput(path, "not a regular file")
    check_inside_roots(resolved, settings.ingest_roots)
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


def register(path: Path, settings: Settings) -> Registered:
    resolved = check_path(path, settings)
    content_hash = sha256_file(resolved)
    info = probe(resolved)
    if info.duration > settings.max_duration_seconds:
        raise BadInput(
            resolved,
            f"video lasts {info.duration:.0f} s, over the limit of {settings.max_duration_seconds:.0f} s",
        )
    return Registered(resolved, content_hash, resolved.stat().st_size, info)
