"""Which files are videos, which folders may be read, and turning the paths a person gives into
the files to ingest."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from core.errors import BadInput

# Extension -> the media type a browser is told when the file is streamed.
VIDEO_TYPES: dict[str, str] = {
    ".mp4": "video/mp4",
    ".m4v": "video/mp4",
    ".mov": "video/quicktime",
    ".mkv": "video/x-matroska",
    ".webm": "video/webm",
    ".avi": "video/x-msvideo",
    ".mpg": "video/mpeg",
    ".mpeg": "video/mpeg",
    ".m2ts": "video/mp2t",
    ".mts": "video/mp2t",
    ".ts": "video/mp2t",
    ".wmv": "video/x-ms-wmv",
    ".flv": "video/x-flv",
    ".3gp": "video/3gpp",
    ".ogv": "video/ogg",
    ".vob": "video/mpeg",
    ".mxf": "application/mxf",
}
VIDEO_EXTENSIONS = frozenset(VIDEO_TYPES)


def media_type(path: str | Path) -> str:
    return VIDEO_TYPES.get(Path(path).suffix.lower(), "application/octet-stream")


def resolved_roots(roots: Sequence[Path]) -> list[Path]:
    return [Path(r).expanduser().resolve() for r in roots]


def outside_roots(path: Path, roots: Sequence[Path]) -> bool:
    """True when ``roots`` are set and the path (symlinks and ``..`` resolved) is under none."""
    if not roots:
        return False
    resolved = Path(path).expanduser().resolve()
    return not any(resolved.is_relative_to(r) for r in resolved_roots(roots))


def check_inside_roots(path: Path, roots: Sequence[Path]) -> None:
    """BadInput naming the path when it lies outside the allowed roots."""
    if outside_roots(path, roots):
        listed = ", ".join(map(str, resolved_roots(roots)))
        raise BadInput(
            path,
            f"outside the allowed roots ({listed}); VIDSEARCH_ALLOWED_ROOTS sets the folders "
            "this server may read",
        )


def expand_paths(paths: Iterable[Path]) -> Iterator[Path]:
    """Files as given; folders walked recursively for video extensions, in a stable order.

    A path that does not exist is passed through so that its job fails with the reason.
    """
    seen: set[Path] = set()
    for path in paths:
        if path.is_dir():
            found = sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in VIDEO_EXTENSIONS
            )
        else:
            found = [path]
        for p in found:
            key = p.absolute()
            if key not in seen:
                seen.add(key)
                yield key


def upload_folder(path: str | Path, uploads_dir: Path) -> Path | None:
    """The folder an uploaded file was kept in (``uploads/<random>/<name>``), or None when the
    path is not an upload."""
    folder = Path(path).absolute().parent
    if folder.parent == uploads_dir.absolute() and folder.name:
        return folder
    return None


def discard_refused_upload(path: str | Path, uploads_dir: Path) -> bool:
    """Remove an uploaded file that was refused as bad input (nobody else points at it, and a
    300 MB file that is no video should not stay on the server's disk); whether one went."""
    import shutil

    folder = upload_folder(path, uploads_dir)
    if folder is None or not folder.is_dir():
        return False
    shutil.rmtree(folder, ignore_errors=True)
    return not folder.exists()
