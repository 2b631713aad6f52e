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
    VIDSEARCH_HOME/index/<collection>/base-<n>/      a large index's base (base_index.py)

A large index (``LARGE_POINTS`` and up) is a base and the points written since: its snapshot
holds those points as above, the base rows they replaced or deleted (dead.npy), and the name of
its base. A base is written again, with the graphs (minutes at a million points), only when
the points written since pass ``REWRITE_SHARE`` of it; until then a snapshot costs what the new
points cost.
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

from core.vectors.base_index import LARGE_POINTS, BaseIndex, BaseRows, write_base
from core.vectors.numpy_engine import IndexArrays, NumpyStore
from core.vectors.store import PAYLOAD_VERSION

log = logging.getLogger(__name__)

FORMAT = 2  # 2: may name a base
RECORD = "record.json"
REWRITE_SHARE = 0.1
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


def _rewrite_base(store: NumpyStore, folder: Path) -> BaseIndex | None:
    """Write the store's whole index as a new base when it is large and what was written since
    its base passed REWRITE_SHARE of it; the base to name otherwise (None: small index)."""
    base = store.base
    if base is None and store.mem.count() < LARGE_POINTS:
        return None
    if base is not None and store.mem.count() <= REWRITE_SHARE * base.n:
        return base
    writes = store.writes
    parts = [base.rows(base.live_rows())] if base is not None else []
    parts.append(_as_rows(store.mem.export_arrays()))
    name = f"base-{time.time_ns()}-{os.getpid()}"
    tmp = folder / f".{name}.tmp"
    write_base(_concat(parts), tmp)
    tmp.rename(folder / name)
    new = BaseIndex(folder / name)
    # The points are in the new base now: drop this process's copies (a few GB at a million),
    # unless a write came in meanwhile (then the next snapshot tries again).
    with store.mem._lock:
        if store.writes == writes:
            store.mem.drop()
            store.attach_base(new)
    return new


def _as_rows(arrays: IndexArrays) -> BaseRows:
    return BaseRows(
        arrays.ids, arrays.matrices, arrays.payloads, arrays.offsets, arrays.terms, arrays.weights
    )


def _concat(parts: list[BaseRows]) -> BaseRows:
    parts = [p for p in parts if p.ids] or parts[:1]
    if len(parts) == 1:
        return parts[0]
    offsets = [parts[0].offsets]
    for p in parts[1:]:
        offsets.append(p.offsets[1:] + offsets[-1][-1])
    return BaseRows(
        ids=[pid for p in parts for pid in p.ids],
        matrices={k: np.concatenate([p.matrices[k] for p in parts]) for k in parts[0].matrices},
        payloads=[x for p in parts for x in p.payloads],
        offsets=np.concatenate(offsets),
        terms=np.concatenate([p.terms for p in parts]),
        weights=np.concatenate([p.weights for p in parts]),
    )


def save_snapshot(store: NumpyStore, folder: Path, signature: str) -> Path:
    """Write the store's points as a new snapshot of ``folder`` and point CURRENT at it."""
    folder.mkdir(parents=True, exist_ok=True)
    base = _rewrite_base(store, folder)
    with store.mem._lock:  # the in-memory points and the base's dead rows of one moment
        arrays = store.mem.export_arrays()
        if base is not None and base is not store.base:
            raise RuntimeError("the index's base changed while its snapshot was written")
        dead = np.flatnonzero(base.dead) if base is not None else np.zeros(0, np.int64)
    name = f"snap-{time.time_ns()}-{os.getpid()}"
    tmp = folder / f".{name}.tmp"
    tmp.mkdir()
    if base is not None:
        np.save(tmp / "dead.npy", dead.astype(np.int64), allow_pickle=False)
    dims = arrays.dims or (base.dims if base is not None else {})
    files = {
        "video.npy": arrays.matrices.get("video", np.zeros((0, dims.get("video", 0)), np.float32)),
        "text.npy": arrays.matrices.get("text", np.zeros((0, dims.get("text", 0)), np.float32)),
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
        "dims": dims,
        "points": len(arrays.ids),
        "base": base.folder.name if base is not None else None,
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
    # A base stays while a snapshot names it (a reader may be starting from an older one).
    named = set()
    for snap in folder.glob("snap-*"):
        try:
            named.add(json.loads((snap / RECORD).read_text(encoding="utf-8")).get("base"))
        except (OSError, ValueError):
            continue
    for base in folder.glob("base-*"):
        if base.name not in named and time.time() - base.stat().st_mtime > 60:
            shutil.rmtree(base, ignore_errors=True)
    for stray in [*folder.glob(".snap-*.tmp"), *folder.glob(".base-*.tmp")]:
        if time.time() - stray.stat().st_mtime > 3600:  # a writer that died half way
            shutil.rmtree(stray, ignore_errors=True)


class Snapshot:
    """A verified snapshot: its points (a large one's base, with the rows that died since, and
    the points written since), and whether it matches a given catalog signature."""

    def __init__(self, key: str, arrays: IndexArrays, base: BaseIndex | None = None) -> None:
        self.key = key
        self.arrays = arrays
        self.base = base

    def load_into(self, store: NumpyStore) -> None:
        store.attach_base(self.base)
        store.mem.load_arrays(self.arrays)

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
        if record.get("format") not in (1, FORMAT):  # 1: the same, never with a base
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
        base = None
        if record.get("base"):
            base = BaseIndex(folder / str(record["base"]))
            dead = np.load(snap / "dead.npy", allow_pickle=False)
            if len(dead) and (dead.min() < 0 or dead.max() >= base.n):
                raise ValueError("its dead rows are not rows of its base")
            base.dead[dead] = True
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
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
    return Snapshot(str(record["key"]), arrays, base)
