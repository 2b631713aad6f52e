"""A snapshot of the embedded numpy engine on disk, so that a new process (a CLI call, an API or
UI start) maps the index instead of rebuilding it from every catalog row.

The catalog stays the truth: a snapshot is keyed by the catalog's ready signature at the time it
was written, and every file carries a sha256 in the snapshot's record. A reader verifies the
files (a damaged snapshot is dropped and the index rebuilt from the catalog, never trusted) and
compares the signature (a stale snapshot is loaded, then refreshed incrementally by the usual
sync, which re-reads only the videos whose revision moved). Writers write a new folder and then
switch the ``CURRENT`` pointer atomically, so a reader sees one whole snapshot or another.

    VIDSEARCH_HOME/index/<collection>/CURRENT        name of the newest snapshot folder
    VIDSEARCH_HOME/index/<collection>/snap-<n>/      record.json, video.npy, text.npy,
                                                     offsets.npy, terms.npy, weights.npy,
                                                     ids.json, payloads.json
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
from pathlib import Path

import numpy as np

from core.vectors.numpy_engine import IndexArrays, NumpyStore
from core.vectors.store import PAYLOAD_VERSION

log = logging.getLogger(__name__)

FORMAT = 1
RECORD = "record.json"
POINTER = "CURRENT"
KEEP = 2  # snapshots kept: the newest, and the one a reader may still be loading


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _key(signature: str) -> str:
    # The payload's shape is part of what a snapshot holds.
    return f"{signature}|payload{PAYLOAD_VERSION}"


def save_snapshot(store: NumpyStore, folder: Path, signature: str) -> Path:
    """Write the store's points as a new snapshot of ``folder`` and point CURRENT at it."""
    arrays = store.mem.export_arrays()
    folder.mkdir(parents=True, exist_ok=True)
    name = f"snap-{time.time_ns()}-{os.getpid()}"
    tmp = folder / f".{name}.tmp"
    tmp.mkdir()
    files = {
        "video.npy": arrays.matrices.get("video", np.zeros((0, 0), np.float32)),
        "text.npy": arrays.matrices.get("text", np.zeros((0, 0), np.float32)),
        "offsets.npy": arrays.offsets,
        "terms.npy": arrays.terms,
        "weights.npy": arrays.weights,
    }
    for file, array in files.items():
        np.save(tmp / file, np.ascontiguousarray(array), allow_pickle=False)
    (tmp / "ids.json").write_text(json.dumps(arrays.ids), encoding="utf-8")
    (tmp / "payloads.json").write_text(json.dumps(arrays.payloads), encoding="utf-8")
    record = {
        "format": FORMAT,
        "key": _key(signature),
        "dims": arrays.dims,
        "points": len(arrays.ids),
        "files": {f.name: _sha256(f) for f in sorted(tmp.iterdir())},
    }
    (tmp / RECORD).write_text(json.dumps(record, indent=1), encoding="utf-8")
    tmp.rename(folder / name)
    pointer = folder / f".{POINTER}.{os.getpid()}.tmp"
    pointer.write_text(name, encoding="utf-8")
    pointer.replace(folder / POINTER)
    _prune(folder, keep_newest=KEEP)
    return folder / name


def _prune(folder: Path, *, keep_newest: int) -> None:
    snaps = sorted(
        (p for p in folder.iterdir() if p.is_dir() and p.name.startswith("snap-")),
        key=lambda p: p.stat().st_mtime_ns,
    )
    current = (folder / POINTER).read_text(encoding="utf-8").strip()
    for old in snaps[:-keep_newest]:
        if old.name != current:
            shutil.rmtree(old, ignore_errors=True)
    for stray in folder.glob(".snap-*.tmp"):  # a writer that died half way
        if time.time() - stray.stat().st_mtime > 3600:
            shutil.rmtree(stray, ignore_errors=True)


class Snapshot:
    """A verified snapshot: its points, and whether it matches a given catalog signature."""

    def __init__(self, key: str, arrays: IndexArrays) -> None:
        self.key = key
        self.arrays = arrays

    def matches(self, signature: str) -> bool:
        return self.key == _key(signature)


def load_snapshot(folder: Path) -> Snapshot | None:
    """The current snapshot of ``folder`` after checking every file, or None when there is none
    or it fails a check (it is then never used; the caller rebuilds from the catalog)."""
    try:
        name = (folder / POINTER).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    snap = folder / name
    try:
        record = json.loads((snap / RECORD).read_text(encoding="utf-8"))
        if record.get("format") != FORMAT:
            raise ValueError(f"format {record.get('format')!r}")
        for file, digest in record["files"].items():
            if _sha256(snap / file) != digest:
                raise ValueError(f"{file} does not match its checksum")
        ids = json.loads((snap / "ids.json").read_text(encoding="utf-8"))
        payloads = json.loads((snap / "payloads.json").read_text(encoding="utf-8"))
        matrices = {
            name: np.load(snap / f"{name}.npy", mmap_mode="r", allow_pickle=False)
            for name in record["dims"]
        }
        offsets = np.load(snap / "offsets.npy", allow_pickle=False)
        terms = np.load(snap / "terms.npy", allow_pickle=False)
        weights = np.load(snap / "weights.npy", allow_pickle=False)
        points = int(record["points"])
        shapes_ok = (
            len(ids) == len(payloads) == points == len(offsets) - 1
            and all(m.shape == (points, record["dims"][k]) for k, m in matrices.items())
            and len(terms) == len(weights) == int(offsets[-1] if len(offsets) else 0)
        )
        if not shapes_ok:
            raise ValueError("its arrays disagree in length")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("ignoring the index snapshot %s: %s; rebuilding from the catalog", snap, exc)
        return None
    arrays = IndexArrays(
        dims={k: int(v) for k, v in record["dims"].items()},
        ids=ids,
        matrices=matrices,
        payloads=payloads,
        offsets=offsets,
        terms=terms,
        weights=weights,
    )
    return Snapshot(str(record["key"]), arrays)
