"""The embedded engine at library sizes past LARGE_POINTS: a synthetic base written as a snapshot
the way the engine writes one, then searched in a fresh process that maps it and reads it in, as
an API or web UI start does before it serves (``prefetch_s``; bench/cold.py measures a one-shot
CLI search, which does not): p50 / p95 of the whole search (query encoding included), the
recall@10 of each dense signal (the top 10 of what the search asks each signal for) against an
exact scan of the same vectors, and the process's peak memory.

The synthetic vectors cluster as real ones do: each video's segments lie around the text model's
embedding of a WordNet noun phrase ("a cab", "a sea slug", ...; cosine about 0.75 to it), so a real
query has real neighbours. Independent random unit vectors have none: in 384 dimensions every
point is about as far from a query as every other, and HNSW's recall@10 on them was 0.15 at a
search width of 128 and 0.62 at 1024 (100k points); exact search is the only index for them.
Captions are 12 words as in bench/search.py.

    .venv/bin/python bench/large_index.py [--sizes 100000,1000000] [--queries 60] [--json]
        [--widths 1024,2048] [--seeds 0,1]

bench/search.py runs it for its sizes too, beside the exact engine.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.vectors.base_index import BaseRows, write_base  # noqa: E402

SEGMENTS_PER_VIDEO = 10


TOPIC_COSINE = 0.75  # a segment's vector against its video's topic


def topic_centres(embedder, count: int = 3000) -> np.ndarray:  # type: ignore[no-untyped-def]
    """The text model's embeddings of WordNet noun phrases: what segments are about."""
    words = sorted(
        {w for node in _hierarchy()["nodes"].values() for w in node["words"] if w.isascii()}
    )
    rng = np.random.default_rng(1)
    picked = rng.choice(words, size=min(count, len(words)), replace=False)
    centres = embedder.embed_text([f"a {w}" for w in picked])
    return (centres / np.linalg.norm(centres, axis=1, keepdims=True)).astype(np.float32)


def _hierarchy() -> dict:  # type: ignore[type-arg]
    path = Path(__file__).resolve().parents[1] / "videobert" / "data" / "imagenet_hierarchy.json"
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def synthetic_rows(n: int, centres: np.ndarray, seed: int = 0) -> BaseRows:
    """n points, ten segments a video, each video about one topic; vectors made in chunks."""
    from bench.search import QUERIES

    rng = np.random.default_rng(seed)
    dim = centres.shape[1]
    # Gaussian noise of this spread puts a unit centre at TOPIC_COSINE from the noisy point.
    spread = np.sqrt((1 / TOPIC_COSINE**2 - 1) / dim)
    topics = rng.integers(0, len(centres), size=(n + SEGMENTS_PER_VIDEO - 1) // SEGMENTS_PER_VIDEO)
    words = [f"w{i}" for i in range(5000)] + [w for q in QUERIES for w in q.split()]
    matrices = {}
    for name in ("video", "text"):
        mat = np.empty((n, dim), np.float32)
        for lo in range(0, n, 100_000):
            hi = min(n, lo + 100_000)
            around = centres[topics[np.arange(lo, hi) // SEGMENTS_PER_VIDEO]]
            block = around + rng.normal(scale=spread, size=(hi - lo, dim)).astype(np.float32)
            mat[lo:hi] = block / np.linalg.norm(block, axis=1, keepdims=True)
        matrices[name] = mat
    ids, payloads, offsets, terms, weights = [], [], [0], [], []
    from core.lexical import term_id, tokenize
    from core.vectors.store import point_id

    # Captions are twelve words drawn in one go; each word's term ids are worked out once, so a
    # row costs a count of twelve ints rather than a tokenizer pass (a million rows in seconds).
    word_terms = [[term_id(t) for t in tokenize(w)] for w in words]
    drawn = rng.integers(0, len(words), size=(n, 12))
    for i in range(n):
        video = f"v{i // SEGMENTS_PER_VIDEO:07d}"
        picked = drawn[i].tolist()
        caption = " ".join(words[k] for k in picked)
        counts: Counter[int] = Counter(t for k in picked for t in word_terms[k])
        row_terms = sorted(counts)
        ids.append(point_id(video, i % SEGMENTS_PER_VIDEO))
        terms.extend(row_terms)
        weights.extend(1.0 + math.log(counts[t]) for t in row_terms)
        offsets.append(len(terms))
        payloads.append(
            {
                "video_id": video,
                "index": i % SEGMENTS_PER_VIDEO,
                "start": 1.5 * (i % SEGMENTS_PER_VIDEO),
                "end": 1.5 * (i % SEGMENTS_PER_VIDEO + 1),
                "text": caption,
                "path": f"/v/{i // SEGMENTS_PER_VIDEO}.mp4",
                "title": "",
                "has_text": True,
                "revision": 1,
            }
        )
    return BaseRows(
        ids,
        matrices,
        payloads,
        np.asarray(offsets, np.int64),
        np.asarray(terms, np.int64),
        np.asarray(weights, np.float32),
    )


def write_snapshot(rows: BaseRows, folder: Path, signature: str = "bench") -> None:
    """A snapshot of a large index with nothing written since its base, written by the engine's
    own snapshot code: what a library of this size leaves on disk after its base was written."""
    from core.vectors.base_index import BaseIndex
    from core.vectors.numpy_engine import NumpyStore
    from core.vectors.snapshot import save_snapshot

    folder.mkdir(parents=True)
    write_base(rows, folder / "base-0")
    store = NumpyStore()
    store.attach_base(BaseIndex(folder / "base-0"))
    save_snapshot(store, folder, signature)


def measure(folder: Path, queries: int, width: int | None = None) -> dict[str, float]:
    """In this (fresh) process: map the snapshot, search, compare with an exact scan; at the
    graphs' search width ``width`` when given (the engine's own otherwise)."""
    from bench.search import QUERIES, _pct
    from core.settings import Settings
    from core.vectors import ann
    from core.vectors.numpy_engine import NumpyStore
    from core.vectors.snapshot import load_snapshot
    from model_lifecycle.active import load_query_embedder
    from search.service import LiveIndex, SearchService

    if width:
        ann.EXPANSION_SEARCH = width  # read when a graph is opened and at each search
    t = time.perf_counter()
    store = NumpyStore()
    snap = load_snapshot(folder)
    if snap is None or snap.base is None:
        raise SystemExit(f"{folder} holds no large snapshot")
    snap.load_into(store)
    load_s = time.perf_counter() - t
    # As the API and the web UI start (services/root.py warm_up): the base's pages read before
    # the first request. A one-shot CLI search does not (bench/cold.py measures that).
    t = time.perf_counter()
    store.prefetch()
    prefetch_s = time.perf_counter() - t
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(home=Path(tmp))
        # What the API, the web UI and the CLI search with (services/root.py): the active space's
        # text tower exported to ONNX (made at the first query here, as on a new home).
        embedder = load_query_embedder(settings)
        service = SearchService(settings, embedder, LiveIndex(settings, store, sync=False))
        texts = [QUERIES[i % len(QUERIES)] for i in range(queries)]
        service.search(texts[0])
        times = []
        for q in texts:
            t = time.perf_counter()
            service.search(q, limit=10)
            times.append(time.perf_counter() - t)
        searching_mb = _resident_mb()  # what a process that has searched holds
        own_mb = _resident_mb("RssAnon:")  # of which its own, not the mapped base's pages
        base = snap.base
        found = total = 0
        for q in texts[: min(20, len(texts))]:
            vec = embedder.embed_text([q])[0]
            vec = vec / np.linalg.norm(vec)
            for name in ("video", "text"):
                asked = store.search_dense(name, vec, settings.search_candidates)
                got = {h.id for h in asked[:10]}
                exact = np.argsort(-(np.asarray(base.matrices[name]) @ vec))[:10]
                want = {base.pid(int(r)) for r in exact}
                found += len(got & want)
                total += len(want)
    return {
        "segments": base.n,
        "engine": "numpy-large",
        "p50_ms": round(_pct(times, 50) * 1e3, 1),
        "p95_ms": round(_pct(times, 95) * 1e3, 1),
        "recall_at_10": round(found / max(1, total), 4),
        "width": ann.EXPANSION_SEARCH,
        # Resident memory after the timed searches, the mapped pages they touched included
        # (shared between processes, but counted here in full).
        "rss_mb": round(searching_mb),
        # Its own memory: the rest of rss_mb is the base's file pages, shared by every process
        # that maps it and given back by the kernel under pressure.
        "anon_mb": round(own_mb),
        # Peak, after the exact scans for the recall figure touched every vector: not what a
        # searching process holds, only this benchmark.
        "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "load_s": round(load_s, 2),
        "prefetch_s": round(prefetch_s, 2),
    }


def _resident_mb(field: str = "VmRSS:") -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1]) / 1024
    return float("nan")


def run(
    sizes: list[int], queries: int, widths: list[int | None], seeds: list[int]
) -> Iterator[dict[str, float]]:
    """Build each size's snapshot here (once per seed: a graph built again is a different
    graph), measure it in a child process at each search width; one dict per measurement."""
    from core.settings import Settings
    from model_lifecycle.active import load_embedder

    with tempfile.TemporaryDirectory() as tmp:
        centres = topic_centres(load_embedder(Settings(home=Path(tmp))))
    for n in sizes:
        for seed in seeds:
            with tempfile.TemporaryDirectory() as tmp:
                folder = Path(tmp) / "index"
                t = time.perf_counter()
                rows = synthetic_rows(n, centres, seed=seed)
                made = time.perf_counter() - t
                t = time.perf_counter()
                write_snapshot(rows, folder)
                build = time.perf_counter() - t
                del rows
                # Gigabytes just written are still being flushed to disk: searched now, the first
                # measurement's reads queue behind that write-back (p95 485-693 ms where the next
                # ones read 83-87 ms). A library is not searched seconds after its base is written.
                os.sync()
                for width in widths:
                    figures = _measure_in_child(folder, queries, width)
                    figures.update(build_s=round(build, 1), points_s=round(made, 1), seed=seed)
                    yield figures


def _measure_in_child(folder: Path, queries: int, width: int | None) -> dict[str, float]:
    command = [sys.executable, __file__, "--measure", str(folder), "--queries", str(queries)]
    if width:
        command += ["--width", str(width)]
    child = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(child.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", default="100000,1000000")
    ap.add_argument("--queries", type=int, default=60)
    ap.add_argument("--json", action="store_true", help="one JSON object a line per size")
    ap.add_argument(
        "--widths",
        default="",
        help="graph search widths to measure each build at (default: the engine's own)",
    )
    ap.add_argument("--seeds", default="0", help="one build per seed (default 0)")
    ap.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--width", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.queries, args.width)))
        return
    sizes = [int(s) for s in args.sizes.split(",") if s]
    widths: list[int | None] = [int(w) for w in args.widths.split(",") if w] or [None]
    seeds = [int(s) for s in args.seeds.split(",") if s]
    for figures in run(sizes, args.queries, widths, seeds):
        print(json.dumps(figures) if args.json else _line(figures), flush=True)


def _line(f: dict[str, float]) -> str:
    return (
        f"{f['engine']:13} {f['segments']:>9} seed {f['seed']} width {f['width']:>5}  build {f['build_s']:>6.1f} s  load {f['load_s']:>5.2f} s"
        f"  p50 {f['p50_ms']:>6.1f} ms  p95 {f['p95_ms']:>6.1f} ms  recall@10 {f['recall_at_10']:.3f}"
        f"  resident {f['rss_mb']:>6.0f} MB, own {f['anon_mb']:>5.0f} MB (peak with the exact scans {f['peak_mb']:.0f} MB)"
    )


if __name__ == "__main__":
    main()
