"""The embedded engine past LARGE_POINTS (core/vectors/base_index.py, core/vectors/ann.py): a
memory-mapped base searched through HNSW graphs, the points written since, and the base rows they
replaced; its snapshots survive a writer killed half way. Sizes are small here (LARGE_POINTS is
lowered); bench/large_index.py measures a million."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from core.lexical import sparse_vector
from core.vectors import SearchFilter, snapshot
from core.vectors.numpy_engine import NumpyStore
from core.vectors.snapshot import load_snapshot, save_snapshot
from core.vectors.store import PAYLOAD_VERSION, SegmentPoint

ROOT = Path(__file__).resolve().parents[2]
DIM = 32


def clustered(n: int, seed: int = 0, topics: int = 40) -> np.ndarray:
    """Unit vectors around a few topics, as real embeddings lie (see bench/large_index.py)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(topics, DIM))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    v = centres[rng.integers(0, topics, n)] + rng.normal(scale=0.15, size=(n, DIM))
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def points(n: int, seed: int = 0, revision: int = 1) -> list[SegmentPoint]:
    video, text = clustered(n, seed), clustered(n, seed + 1)
    out = []
    for i in range(n):
        vid = f"v{i // 10:04d}"
        caption = f"red car {i % 7} boat" if i % 3 else ""
        out.append(
            SegmentPoint(
                video_id=vid,
                index=i % 10,
                video_vector=video[i],
                text_vector=text[i],
                lexical=sparse_vector(caption),
                payload={
                    "video_id": vid,
                    "index": i % 10,
                    "revision": revision,
                    "text": caption,
                    "has_text": bool(caption),
                    "video_has_speech": i % 20 < 10,
                    "duration": float(i // 10),
                    "folders": ["/v"],
                    "payload_version": PAYLOAD_VERSION,
                },
            )
        )
    return out


@pytest.fixture
def small_is_large(monkeypatch):
    monkeypatch.setattr(snapshot, "LARGE_POINTS", 100)


def large_store(folder: Path, n: int = 600) -> NumpyStore:
    store = NumpyStore()
    store.upsert(points(n))
    save_snapshot(store, folder, "one")
    assert store.base is not None and store.mem.count() == 0  # the base holds them all now
    return store


def exact_top(store: NumpyStore, name: str, q: np.ndarray, k: int, keep=None) -> list[str]:  # type: ignore[no-untyped-def]
    pts = store.points()
    ids = [pid for pid, p in pts.items() if keep is None or keep(p["payload"])]
    if name == "text":
        ids = [pid for pid in ids if pts[pid]["payload"]["has_text"]]
    mat = np.asarray([pts[pid]["vector"][name] for pid in ids], np.float32)
    return [ids[i] for i in np.argsort(-(mat @ q), kind="stable")[:k]]


def test_the_graphs_find_the_exact_top_ten_with_and_without_filters(tmp_path, small_is_large):
    store = large_store(tmp_path, n=3000)
    rng = np.random.default_rng(9)
    found = total = 0
    for q in clustered(20, seed=7):
        for name in ("video", "text"):
            got = [h.id for h in store.search_dense(name, q, 10)]
            want = exact_top(store, name, q, 10)
            found += len(set(got) & set(want))
            total += 10
    assert found / total >= 0.98, found / total
    # A filter that keeps most rows walks the graph and drops the rest; one that keeps few
    # rows scans them exactly: both give the exact answer's ids.
    some = f"v{rng.integers(0, 300):04d}"
    q = clustered(1, seed=11)[0]
    got = [h.id for h in store.search_dense("video", q, 10, SearchFilter(video_ids=(some,)))]
    assert got == exact_top(store, "video", q, 10, lambda p: p["video_id"] == some)
    wide = SearchFilter(exclude_video_ids=(some,), has_speech=True)
    got = [h.payload for h in store.search_dense("video", q, 50, wide)]
    assert got and all(p["video_id"] != some and p["video_has_speech"] for p in got)


def test_what_is_written_after_the_base_replaces_and_removes_its_points(tmp_path, small_is_large):
    store = large_store(tmp_path)
    target = points(600)[42]
    moved = SegmentPoint(
        target.video_id,
        target.index,
        -target.video_vector,
        target.text_vector,
        sparse_vector("espresso"),
        {**target.payload, "revision": 2, "text": "espresso"},
    )
    store.upsert([moved])
    gone = points(600)[43]
    store.delete([gone.id])
    assert store.count() == 599
    assert store.revisions()[moved.id] == 2 and gone.id not in store.revisions()
    hits = store.search_dense("video", -target.video_vector, 5)
    assert hits[0].id == moved.id and hits[0].payload["text"] == "espresso"
    assert all(h.id != gone.id for h in store.search_dense("video", gone.video_vector, 50))
    assert [h.id for h in store.search_lexical(sparse_vector("espresso"), 5)] == [moved.id]
    # The base's old copy of the moved point no longer has its words.
    assert all(h.id != moved.id for h in store.search_lexical(sparse_vector("red car"), 1000))
    assert sorted(store.video_point_ids(target.video_id)) == sorted(
        p.id for p in points(600) if p.video_id == target.video_id and p.id != gone.id
    )
    # A new process starting from the snapshot answers alike, and mapped its base, not a copy.
    save_snapshot(store, tmp_path, "two")
    fresh = NumpyStore()
    snap = load_snapshot(tmp_path)
    assert snap is not None and snap.matches("two") and snap.base is not None
    snap.load_into(fresh)
    assert isinstance(fresh.base.matrices["video"], np.memmap)  # type: ignore[union-attr]
    q = clustered(1, seed=5)[0]
    for name in ("video", "text"):
        a = [(h.id, round(h.score, 5)) for h in store.search_dense(name, q, 20)]
        b = [(h.id, round(h.score, 5)) for h in fresh.search_dense(name, q, 20)]
        assert a == b
    lex = sparse_vector("red car boat")
    assert [h.id for h in store.search_lexical(lex, 30)] == [
        h.id for h in fresh.search_lexical(lex, 30)
    ]
    assert fresh.count() == 599


def test_lexical_scores_are_the_whole_index_idf_across_base_and_new_points(
    tmp_path, small_is_large
):
    """One engine without a base and one with the same points split over base and new points
    give the same lexical scores (IDF counts both parts)."""
    all_points = points(400)
    flat = NumpyStore()
    flat.upsert(all_points)
    layered = NumpyStore()
    layered.upsert(all_points[:300])
    save_snapshot(layered, tmp_path, "x")
    layered.upsert(all_points[300:])
    assert layered.base is not None and layered.mem.count() == 100
    q = sparse_vector("red car 3")
    a = sorted((h.id, round(h.score, 5)) for h in flat.search_lexical(q, 500))
    b = sorted((h.id, round(h.score, 5)) for h in layered.search_lexical(q, 500))
    assert a == b


def test_a_writer_killed_in_the_middle_of_a_base_leaves_the_last_snapshot_whole(tmp_path):
    folder = tmp_path / "index"
    script = textwrap.dedent(
        f"""
        import os, sys
        sys.path.insert(0, {str(ROOT)!r})
        from tests.core.test_large_index import points
        from core.vectors import ann, snapshot
        from core.vectors.numpy_engine import NumpyStore
        from pathlib import Path
        snapshot.LARGE_POINTS, snapshot.REWRITE_SHARE = 100, 0.0
        store = NumpyStore()
        store.upsert(points(300))
        snapshot.save_snapshot(store, Path({str(folder)!r}), "first")
        store.upsert(points(300, seed=5, revision=2))  # every point written anew
        real = ann.build_graph
        def die_after_one(*args, **kwargs):
            real(*args, **kwargs)
            os._exit(9)  # killed with one graph of the new base on disk
        ann.build_graph = snapshot.write_base.__globals__["build_graph"] = die_after_one
        snapshot.save_snapshot(store, Path({str(folder)!r}), "second")
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert proc.returncode == 9, proc.stderr
    assert list(folder.glob(".base-*.tmp")), "the kill should have left a half-written base"
    snap = load_snapshot(folder)
    assert snap is not None and snap.matches("first") and snap.base is not None
    store = NumpyStore()
    snap.load_into(store)
    assert store.count() == 300 and set(store.revisions().values()) == {1}


def test_a_damaged_base_is_never_used(tmp_path, small_is_large):
    large_store(tmp_path)
    base = next(tmp_path.glob("base-*"))
    ids = base / "ids.npy"
    data = bytearray(ids.read_bytes())
    data[-5] ^= 0xFF
    ids.write_bytes(bytes(data))
    assert load_snapshot(tmp_path) is None  # the caller rebuilds from the catalog


def test_a_mapped_graph_leaves_the_query_encoder_loadable_after_it():
    """usearch loaded before onnxruntime crashed the process at ``import onnxruntime``: a CLI
    search on a large library maps the graphs first and encodes the query after."""
    script = (
        f"import sys; sys.path.insert(0, {str(ROOT)!r})\n"
        "from core.vectors.ann import _index_class\n"
        "_index_class()\n"
        "import onnxruntime\n"
        "print(onnxruntime.get_device())\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-2000:])


def test_a_large_index_asks_the_catalog_at_most_once_a_second(
    tmp_path, small_is_large, monkeypatch
):
    """The catalog check reads every ready video's row (40 ms at 100k videos): a large index
    checks at most every LARGE_CHECK_SECONDS, a small one before every query."""
    from core.settings import Settings
    from search import live

    calls = []
    real = live.ready_signature

    def counted(**kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        return real(**kwargs)

    monkeypatch.setattr(live, "ready_signature", counted)
    settings = Settings(home=tmp_path / "home")
    small = live.LiveIndex(settings, NumpyStore(), snapshots=False)
    small.ensure_fresh()
    small.ensure_fresh()
    assert len(calls) == 2
    large = live.LiveIndex(settings, large_store(tmp_path / "index"), snapshots=False)
    large.ensure_fresh()
    large.ensure_fresh()
    assert len(calls) == 3
    monkeypatch.setattr(live, "LARGE_CHECK_SECONDS", 0.0)
    large._next_check = 0.0
    large.ensure_fresh()
    assert len(calls) == 4


def test_searches_side_by_side_answer_as_one_at_a_time(tmp_path, small_is_large):
    """The graphs are searched without a lock at their fixed width, and a search asking for more
    than the width allows widens it for itself: threads get what serial calls get."""
    import threading

    from core.vectors import ann

    store = large_store(tmp_path, n=3000)
    graph = store.base.graphs["video"]  # type: ignore[union-attr]
    queries = clustered(24, seed=3)
    counts = [10, 100, ann.EXPANSION_SEARCH] * 8  # the last widens the search under the lock
    serial = [graph.search(q, c)[0].tolist() for q, c in zip(queries, counts, strict=True)]
    side_by_side: list[list[int]] = [[] for _ in queries]

    def run(i: int) -> None:
        side_by_side[i] = graph.search(queries[i], counts[i])[0].tolist()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(queries))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert side_by_side == serial
    assert graph._index.expansion_search == ann.EXPANSION_SEARCH  # restored after widening


def test_a_base_is_read_whole_before_serving_and_answers_the_same(tmp_path, small_is_large):
    store = large_store(tmp_path, n=600)
    assert store.base is not None
    q = clustered(1, seed=3)[0]
    before = [h.id for h in store.search_dense("video", q, 10)]
    on_disk = sum(p.stat().st_size for p in store.base.folder.iterdir() if p.is_file())
    assert store.prefetch() == on_disk  # every file of the base, once
    assert [h.id for h in store.search_dense("video", q, 10)] == before
    assert NumpyStore().prefetch() == 0  # a small index has no base to read
