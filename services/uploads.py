"""Uploads: a video arriving over HTTP or through the web UI, kept under
``VIDSEARCH_HOME/uploads`` only when it is whole, has a video file's name and is within
``max_upload_bytes``; what a crash cut off is removed later."""

from __future__ import annotations

import re
import shutil
import time
import uuid
from pathlib import Path
from typing import BinaryIO

from core.settings import Settings
from indexer.paths import VIDEO_EXTENSIONS


class BadUpload(ValueError):
    """An upload refused before it was stored: a name that is no video file's, or too many
    bytes; nothing of it is kept."""


class UploadTooLarge(BadUpload):
    """More bytes than ``max_upload_bytes``."""


_UNSAFE = re.compile(r"[^\w.\- ()+,]+")
PARTIAL = ".part"


def upload_name(name: str) -> str:
    """A file name safe to write: its last path component, odd characters (slashes, control
    characters, newlines) replaced, a leading dot or dash dropped, at most 200 characters."""
    base = _UNSAFE.sub("_", Path(name.replace("\\", "/")).name).strip(" .-_")
    stem, suffix = Path(base).stem[:180], Path(base).suffix.lower()[:10]
    return (stem or "upload") + suffix


class Upload:
    """A video arriving over HTTP, written to ``uploads/<random>/<name>.part`` as it comes and
    renamed to its name only when it is whole and within ``max_upload_bytes``; a refused or
    broken upload leaves nothing behind."""

    def __init__(self, settings: Settings, name: str) -> None:
        clean = upload_name(name)
        if Path(clean).suffix not in VIDEO_EXTENSIONS:
            raise BadUpload(
                f"{name!r} is not a video file name (it must end in one of "
                f"{', '.join(sorted(VIDEO_EXTENSIONS))})"
            )
        self.limit = settings.max_upload_bytes
        self.folder = settings.uploads_dir / uuid.uuid4().hex[:16]
        self.folder.mkdir(parents=True)
        self.path = self.folder / clean
        self._partial = self.path.with_name(self.path.name + PARTIAL)
        self._out = self._partial.open("xb")
        self.size = 0

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.limit:
            self.abort()
            raise UploadTooLarge(
                f"upload is over the limit of {self.limit} bytes (VIDSEARCH_MAX_UPLOAD_BYTES)"
            )
        self._out.write(chunk)

    def finish(self) -> Path:
        self._out.close()
        if self.size == 0:
            self.abort()
            raise BadUpload("upload is empty (0 bytes)")
        self._partial.rename(self.path)
        return self.path

    def abort(self) -> None:
        self._out.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def drop_partial_uploads(settings: Settings, older_than: float = 3600.0) -> int:
    """Remove what uploads cut off by a crash left (``*.part`` older than ``older_than``
    seconds: a younger one may still be arriving in another API process)."""
    removed = 0
    now = time.time()
    for part in settings.uploads_dir.glob(f"*/*{PARTIAL}"):
        try:
            if now - part.stat().st_mtime > older_than:
                shutil.rmtree(part.parent, ignore_errors=True)
                removed += 1
        except OSError:
            continue
    return removed


UPLOAD_CHUNK = 1 << 20


def save_upload(settings: Settings, name: str, data: bytes | BinaryIO) -> Path:
    """Keep a file uploaded through the web UI under ``VIDSEARCH_HOME/uploads`` (its own folder,
    so two uploads with one name never collide) and return its path, ready for ``submit``; the
    same checks as an HTTP upload (a video file name, ``max_upload_bytes``; BadUpload)."""
    upload = Upload(settings, name)
    try:
        if isinstance(data, bytes):
            upload.write(data)
        else:
            while chunk := data.read(UPLOAD_CHUNK):
                upload.write(chunk)
        return upload.finish()
    except BaseException:
        upload.abort()
        raise
