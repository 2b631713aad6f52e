"""The read-only base of a large embedded index: every point of a snapshot in flat files that
each process memory-maps, searched through an HNSW graph per dense vector (core/vectors/ann.py)
and term-sorted postings for the lexical vector.

Past ``LARGE_POINTS`` points the numpy engine's own layout (a float32 matrix per vector, a
Python dict per payload and per term) costs each process about 6 GB a million points and a
linear scan per query. Here a process maps the files (the page cache is shared between the CLI,
the API, the UI and the workers), reads a payload only for a hit, and looks at a few thousand
graph nodes a query. Points written after the base live in the engine's small in-memory part;
points removed or replaced are masked here (``dead``), until the next base is written.

    <snapshot>/base/record.json          dims, points, files (size + sampled sha256)
    ids.npy (n,) S36 point ids; id_order.npy: their sorted order, for id lookups
    video.npy, text.npy (n, dim) float32 unit vectors: exact scores (the graphs hold float16)
    video.usearch, text.usearch          the graphs (text: rows with a caption only)
    has_text.npy, video_code.npy         per-row flag, and the row's video in videos.json
    videos.json                          per video: id, revision, speech, duration, time, folders
    payloads.bin, payload_offsets.npy    each row's payload as JSON, read only for hits
    lex_offsets/terms/weights.npy        each row's lexical vector (for rewriting the base)
    term_ids/term_ptr/term_rows/term_weights.npy   the same, sorted by term (for queries)
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.vectors.ann import Graph, build_graph
from core.vectors.row_reader import RowReader
from core.vectors.store import DENSE, SearchFilter, normal_folder

FORMAT = 1
RECORD = "record.json"
# Points from which a snapshot is written as a base with graphs: below it the exact scan of
# in-memory matrices is as fast (bench/search.py: 24.9 ms p50 at 10k with query encoding).
LARGE_POINTS = 200_000
# A filter that leaves fewer than this share of the rows is answered by an exact scan of those
# rows: the graph would have to be walked far past them to find enough that pass.
EXACT_SHARE = 0.05
EXACT_FACTOR = 4  # ... and so is one that leaves fewer than this many rows per answer asked for
OVERSAMPLE = 1.5  # graph candidates asked for beyond what the filter is expected to drop
SAMPLE_BLOCK = 1 << 20  # files past 64 blocks are checked on their first, middle and last block


@dataclass
class BaseRows:
    """What a base is written from: points in row order (vectors are unit vectors)."""

    ids: list[str]
    matrices: dict[str, np.ndarray]  # name -> (points, dim) float32
    payloads: list[dict[str, Any]]
    offsets: np.ndarray  # (points + 1,) int64: row i's terms are terms[offsets[i]:offsets[i+1]]
    terms: np.ndarray  # int64
    weights: np.ndarray  # float32


def _digest(path: Path) -> str:
    """sha256 of a small file, of three blocks and the size of a large one: a reader checks a
    base at every start, and reading 3 GB to do it would take longer than the search."""
    h = hashlib.sha256()
    size = path.stat().st_size
    with path.open("rb") as fh:
        if size <= 64 * SAMPLE_BLOCK:
            while chunk := fh.read(SAMPLE_BLOCK):
                h.update(chunk)
        else:
            for at in (0, size // 2, size - SAMPLE_BLOCK):
                fh.seek(at)
                h.update(fh.read(SAMPLE_BLOCK))
            h.update(str(size).encode())
    return h.hexdigest()


def _videos(payloads: list[dict[str, Any]]) -> tuple[dict[str, list[Any]], np.ndarray]:
    """The per-video columns filters read, and each row's index into them."""
    codes: dict[str, int] = {}
    cols: dict[str, list[Any]] = {
        k: [] for k in ("ids", "revision", "has_speech", "duration", "ingested_at", "folders")
    }
    row_codes = np.zeros(len(payloads), np.int32)
    for row, p in enumerate(payloads):
        vid = str(p.get("video_id"))
        code = codes.get(vid)
        if code is None:
            code = codes[vid] = len(codes)
            cols["ids"].append(vid)
            cols["revision"].append(int(p.get("revision", -1)))
            cols["has_speech"].append(bool(p.get("video_has_speech")))
            cols["duration"].append(float(p.get("duration") or 0.0))
            cols["ingested_at"].append(float(p.get("ingested_at") or 0.0))
            cols["folders"].append(list(p.get("folders") or ()))
        row_codes[row] = code
    return cols, row_codes


def write_base(rows: BaseRows, folder: Path, *, threads: int = 0) -> None:
    """Write ``rows`` as a base into the new folder ``folder`` (the caller renames the snapshot
    that holds it into place, so a reader never sees half a base)."""
    folder.mkdir(parents=True)
    n = len(rows.ids)
    dims = {name: int(m.shape[1]) for name, m in rows.matrices.items()}
    arrays: dict[str, np.ndarray] = {
        "ids": np.asarray(rows.ids, dtype="S36"),
        "has_text": np.fromiter((bool(p.get("has_text")) for p in rows.payloads), bool, count=n),
        "lex_offsets": np.asarray(rows.offsets, np.int64),
        "lex_terms": np.asarray(rows.terms, np.int64),
        "lex_weights": np.asarray(rows.weights, np.float32),
    }
    arrays["id_order"] = np.argsort(arrays["ids"], kind="stable").astype(np.int64)
    for name, mat in rows.matrices.items():
        arrays[name] = np.asarray(mat, np.float32)
    videos, arrays["video_code"] = _videos(rows.payloads)
    # Postings by term: each row's terms, sorted by term (rows stay in order within a term).
    row_of = np.repeat(np.arange(n, dtype=np.int32), np.diff(arrays["lex_offsets"]))
    order = np.argsort(arrays["lex_terms"], kind="stable")
    sorted_terms = arrays["lex_terms"][order]
    term_ids, starts = np.unique(sorted_terms, return_index=True)
    arrays["term_ids"] = term_ids.astype(np.int64)
    arrays["term_ptr"] = np.append(starts, len(sorted_terms)).astype(np.int64)
    arrays["term_rows"] = row_of[order]
    arrays["term_weights"] = arrays["lex_weights"][order]
    for file, array in arrays.items():
        np.save(folder / f"{file}.npy", np.ascontiguousarray(array), allow_pickle=False)
    (folder / "videos.json").write_text(json.dumps(videos), encoding="utf-8")
    blobs = [json.dumps(p, separators=(",", ":")).encode() for p in rows.payloads]
    offsets = np.zeros(n + 1, np.int64)
    offsets[1:] = np.cumsum([len(b) for b in blobs])
    np.save(folder / "payload_offsets.npy", offsets, allow_pickle=False)
    (folder / "payloads.bin").write_bytes(b"".join(blobs))
    video = np.asarray(rows.matrices["video"], np.float32)
    build_graph(video, np.arange(n), folder / "video.usearch", threads=threads)
    # The text graph holds the rows with a caption only: an empty caption's vector is near
    # every query alike, and the text signal never returns it.
    texted = np.flatnonzero(arrays["has_text"])
    text = np.asarray(rows.matrices["text"], np.float32)[texted]
    build_graph(text, texted, folder / "text.usearch", threads=threads)
    record = {
        "format": FORMAT,
        "dims": dims,
        "points": n,
        "files": {f.name: _digest(f) for f in sorted(folder.iterdir())},
    }
    (folder / RECORD).write_text(json.dumps(record, indent=1), encoding="utf-8")


class BaseIndex:
    """A base, memory-mapped. ``dead`` marks rows removed or replaced since it was written;
    every read leaves them out. Not thread-safe for writes to ``dead``: the engine's lock
    covers them."""

    def __init__(self, folder: Path) -> None:
        record = json.loads((folder / RECORD).read_text(encoding="utf-8"))
        if record.get("format") != FORMAT:
            raise ValueError(f"base format {record.get('format')!r}, expected {FORMAT}")
        for file, digest in record["files"].items():
            if _digest(folder / file) != digest:
                raise ValueError(f"{file} does not match its checksum")
        self.folder = folder
        self.dims: dict[str, int] = {k: int(v) for k, v in record["dims"].items()}
        self.n = int(record["points"])

        def load(name: str) -> np.ndarray:
            return np.load(folder / f"{name}.npy", mmap_mode="r", allow_pickle=False)

        self.ids = load("ids")
        self.id_order = load("id_order")
        self.matrices = {name: load(name) for name in DENSE}
        # Scoring candidates reads scattered rows: by pread, so they are not mapped (row_reader.py)
        self._row_readers = {
            name: RowReader(m) for name, m in self.matrices.items() if isinstance(m, np.memmap)
        }
        self.has_text = load("has_text")
        self.video_code = load("video_code")
        self.payload_offsets = load("payload_offsets")
        self.lex = (load("lex_offsets"), load("lex_terms"), load("lex_weights"))
        self.term_ids, self.term_ptr = load("term_ids"), load("term_ptr")
        self.term_rows, self.term_weights = load("term_rows"), load("term_weights")
        self._payloads = (
            np.memmap(folder / "payloads.bin", dtype=np.uint8, mode="r")
            if (folder / "payloads.bin").stat().st_size
            else np.zeros(0, np.uint8)
        )
        v = json.loads((folder / "videos.json").read_text(encoding="utf-8"))
        self.video_ids: list[str] = v["ids"]
        self.video_revision = np.asarray(v["revision"], np.int64)
        self.video_speech = np.asarray(v["has_speech"], bool)
        self.video_duration = np.asarray(v["duration"], np.float64)
        self.video_time = np.asarray(v["ingested_at"], np.float64)
        self.video_folders: list[list[str]] = v["folders"]
        self._video_index = {vid: i for i, vid in enumerate(self.video_ids)}
        self.graphs = {name: Graph(folder / f"{name}.usearch") for name in DENSE}
        shapes_ok = (
            len(self.ids) == self.n == len(self.payload_offsets) - 1 == len(self.video_code)
            and all(m.shape == (self.n, self.dims[k]) for k, m in self.matrices.items())
            and self.graphs["video"].size == self.n
        )
        if not shapes_ok:
            raise ValueError("its arrays disagree in length")
        self.dead = np.zeros(self.n, bool)

    def prefetch(self) -> int:
        """Read the base's files once, so the pages its searches touch are in memory: a process
        that maps a base searches its first queries from disk otherwise (at a million segments
        the first ten took 50-420 ms where the rest took 22-30). A long-running process does this
        before it serves (services/root.py); a one-shot CLI call does not. Returns bytes read."""
        total = 0
        chunk = bytearray(16 << 20)
        for path in sorted(p for p in self.folder.iterdir() if p.is_file()):
            with path.open("rb", buffering=0) as f:
                if hasattr(os, "posix_fadvise"):
                    os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_SEQUENTIAL)
                while n := f.readinto(chunk):
                    total += n
        return total

    # --- points --------------------------------------------------------------------------------
    def live_count(self) -> int:
        return self.n - int(self.dead.sum())

    def row_of(self, pid: str) -> int | None:
        """The live row of a point id, or None."""
        key = pid.encode()
        at = int(np.searchsorted(self.ids, key, sorter=self.id_order))
        if at < self.n:
            row = int(self.id_order[at])
            if self.ids[row] == key and not self.dead[row]:
                return row
        return None

    def pid(self, row: int) -> str:
        return bytes(self.ids[row]).decode()

    def payload(self, row: int) -> dict[str, Any]:
        lo, hi = int(self.payload_offsets[row]), int(self.payload_offsets[row + 1])
        out: dict[str, Any] = json.loads(bytes(self._payloads[lo:hi]))
        return out

    def vector(self, row: int, name: str) -> np.ndarray:
        return self._take(name, np.array([row]))[0]

    def _take(self, name: str, rows: np.ndarray) -> np.ndarray:
        reader = self._row_readers.get(name)
        taken = reader.take(rows) if reader is not None else self.matrices[name][rows]
        return np.asarray(taken, np.float32)

    def lexical(self, row: int) -> dict[int, float]:
        offsets, terms, weights = self.lex
        lo, hi = int(offsets[row]), int(offsets[row + 1])
        return dict(zip(terms[lo:hi].tolist(), weights[lo:hi].tolist(), strict=True))

    def video_rows(self, video_id: str) -> np.ndarray:
        code = self._video_index.get(video_id)
        if code is None:
            return np.zeros(0, np.int64)
        rows = np.flatnonzero(np.asarray(self.video_code) == code)
        return rows[~self.dead[rows]]

    def live_rows(self) -> np.ndarray:
        return np.flatnonzero(~self.dead)

    def revisions(self) -> dict[str, int]:
        rows = self.live_rows()
        revs = self.video_revision[np.asarray(self.video_code)[rows]]
        return {bytes(self.ids[r]).decode(): int(rev) for r, rev in zip(rows, revs, strict=True)}

    def rows(self, rows: np.ndarray) -> BaseRows:
        """These rows as what a base is written from (payloads parsed: for a rewrite only)."""
        offsets, terms, weights = self.lex
        lo, hi = np.asarray(offsets)[rows], np.asarray(offsets)[rows + 1]
        counts = hi - lo
        picks = (
            np.concatenate([np.arange(a, b) for a, b in zip(lo, hi, strict=True)])
            if len(rows)
            else np.zeros(0, np.int64)
        )
        new_offsets = np.zeros(len(rows) + 1, np.int64)
        new_offsets[1:] = np.cumsum(counts)
        return BaseRows(
            ids=[bytes(self.ids[r]).decode() for r in rows],
            matrices={k: np.asarray(m[rows], np.float32) for k, m in self.matrices.items()},
            payloads=[self.payload(int(r)) for r in rows],
            offsets=new_offsets,
            terms=np.asarray(terms)[picks].astype(np.int64),
            weights=np.asarray(weights)[picks].astype(np.float32),
        )

    # --- filters -------------------------------------------------------------------------------
    def allowed(self, flt: SearchFilter | None, *, has_text: bool = False) -> np.ndarray | None:
        """A mask over the rows that are live and pass the filter (None: every row passes)."""
        mask = None if not self.dead.any() else ~self.dead
        if has_text:
            mask = np.asarray(self.has_text) if mask is None else mask & self.has_text
        videos = self._videos_allowed(flt)
        if videos is not None:
            by_row = videos[np.asarray(self.video_code)]
            mask = by_row if mask is None else mask & by_row
        return mask

    def _videos_allowed(self, flt: SearchFilter | None) -> np.ndarray | None:
        if flt is None:
            return None
        ok = np.ones(len(self.video_ids), bool)
        touched = False
        if flt.min_duration is not None:
            ok &= self.video_duration >= flt.min_duration
            touched = True
        if flt.max_duration is not None:
            ok &= self.video_duration <= flt.max_duration
            touched = True
        if flt.ingested_after is not None:
            ok &= self.video_time >= flt.ingested_after
            touched = True
        if flt.ingested_before is not None:
            ok &= self.video_time <= flt.ingested_before
            touched = True
        if flt.has_speech is not None:
            ok &= self.video_speech == flt.has_speech
            touched = True
        if flt.folder:
            folder = normal_folder(flt.folder)
            ok &= np.fromiter((folder in f for f in self.video_folders), bool, count=len(ok))
            touched = True
        if flt.video_ids is not None:
            wanted = set(flt.video_ids)
            ok &= np.fromiter((v in wanted for v in self.video_ids), bool, count=len(ok))
            touched = True
        for vid in flt.exclude_video_ids:
            code = self._video_index.get(vid)
            if code is not None:
                ok[code] = False
                touched = True
        return ok if touched else None

    # --- search --------------------------------------------------------------------------------
    def search_dense(
        self, name: str, query: np.ndarray, limit: int, allowed: np.ndarray | None
    ) -> list[tuple[int, float]]:
        """(row, exact cosine) of the best live rows that the mask allows, best first."""
        q = np.asarray(query, np.float32)
        norm = float(np.linalg.norm(q))
        q = q / norm if norm > 0 else q
        population = self.n if allowed is None else int(allowed.sum())
        if population == 0 or limit <= 0:
            return []
        if population < EXACT_SHARE * self.n or population <= EXACT_FACTOR * limit:
            rows = np.flatnonzero(allowed) if allowed is not None else np.arange(self.n)
            return self._exact(name, q, rows, limit)
        graph = self.graphs[name]
        share = population / (self.n if name == "video" else max(1, graph.size))
        want = min(graph.size, math.ceil(limit * OVERSAMPLE / min(1.0, share)))
        while True:
            rows, _ = graph.search(q, want)
            if allowed is not None:
                rows = rows[allowed[rows]]
            if len(rows) >= limit or want >= graph.size:
                return self._exact(name, q, rows, limit)
            want = min(graph.size, want * 4)

    def _exact(
        self, name: str, q: np.ndarray, rows: np.ndarray, limit: int
    ) -> list[tuple[int, float]]:
        scores = self._take(name, rows) @ q
        k = min(limit, len(rows))
        if k <= 0:
            return []
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(rows[i]), float(scores[i])) for i in top]

    def term_postings(self, term: int) -> tuple[np.ndarray, np.ndarray]:
        """(rows, weights) of the live rows holding this term."""
        at = int(np.searchsorted(self.term_ids, term))
        if at >= len(self.term_ids) or int(self.term_ids[at]) != term:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        lo, hi = int(self.term_ptr[at]), int(self.term_ptr[at + 1])
        rows = np.asarray(self.term_rows[lo:hi], np.int64)
        weights = np.asarray(self.term_weights[lo:hi], np.float32)
        alive = ~self.dead[rows]
        return rows[alive], weights[alive]
