"""The embedded numpy index answers searches while it is dropped and reloaded from a snapshot
(the API's /reindex, a warm start), and while writers that find it lost fill it again: every
read sees a whole index, an empty one or the new one, never half of one, and every hit comes
with its payload. bench/faults.py caught a search failing with IndexError mid-reload, a hit
without a payload after a drop, and a rebuild's rows outliving their matrices."""

from __future__ import annotations

import threading
import time

import numpy as np

from core.vectors.numpy_engine import MemoryIndex

DIMS = {"video": 8, "text": 8}


def _filled(n: int = 300, seed: int = 0) -> MemoryIndex:
    rng = np.random.default_rng(seed)
    mem = MemoryIndex()
    mem.create(DIMS)
    for i in range(n):
        mem.upsert(
            f"p{i}",
            {k: rng.normal(size=d).astype(np.float32) for k, d in DIMS.items()},
            {i % 50: 1.0},
            {"video_id": f"v{i // 3}", "index": i % 3, "has_text": True},
        )
    return mem


def test_reloading_and_dropping_keep_the_lock_that_readers_wait_on():
    mem = _filled(10)
    lock = mem._lock
    arrays = mem.export_arrays()
    mem.load_arrays(arrays)
    assert mem._lock is lock and mem.count() == 10
    mem.drop()
    assert mem._lock is lock and mem.count() == 0


def test_searches_during_reloads_see_a_whole_index_or_none():
    mem = _filled()
    arrays = mem.export_arrays()
    query = np.ones(8, np.float32)
    errors: list[BaseException] = []
    sizes: set[int] = set()
    stop = time.monotonic() + 1.5

    def reload() -> None:
        while time.monotonic() < stop:
            mem.load_arrays(arrays)
            mem.drop()

    def search() -> None:
        while time.monotonic() < stop:
            try:
                hits = mem.search_dense("video", query, 1000)
                sizes.add(len(hits))
                for pid, _, payload in hits[:5]:
                    mem.vector(pid, "text")
                    assert payload["video_id"]
                mem.search_lexical({1: 1.0, 7: 1.0}, 10)
            except BaseException as exc:  # noqa: BLE001 - any failure is the finding
                errors.append(exc)
                return

    threads = [threading.Thread(target=reload)] + [
        threading.Thread(target=search) for _ in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [], repr(errors[:3])
    assert sizes <= {0, 300}, f"a search saw part of the index: {sorted(sizes)[:10]}"


def test_writers_refilling_a_dropped_index_and_searches_never_fail():
    """What /reindex --rebuild, a search that finds its index lost and mends it, and the loss
    itself do at once: batches of upserts from two writers, drops, and searches."""
    from core.lexical import sparse_vector
    from core.vectors import SegmentPoint
    from core.vectors.numpy_engine import NumpyStore

    rng = np.random.default_rng(1)
    points = [
        SegmentPoint(
            video_id=f"v{i // 3}",
            index=i % 3,
            video_vector=rng.normal(size=8).astype(np.float32),
            text_vector=rng.normal(size=8).astype(np.float32),
            lexical=sparse_vector(f"word{i % 7} scene"),
            payload={"video_id": f"v{i // 3}", "index": i % 3, "has_text": True},
        )
        for i in range(120)
    ]
    store = NumpyStore()
    errors: list[BaseException] = []
    stop = time.monotonic() + 1.5

    def guarded(work):  # type: ignore[no-untyped-def]
        def run() -> None:
            while time.monotonic() < stop:
                try:
                    work()
                except BaseException as exc:  # noqa: BLE001 - any failure is the finding
                    errors.append(exc)
                    return

        return threading.Thread(target=run)

    def write() -> None:
        for start in range(0, len(points), 40):
            store.upsert(points[start : start + 40])

    def search() -> None:
        for hit in store.search_dense("video", np.ones(8, np.float32), 50):
            assert hit.payload["video_id"], hit
        for hit in store.search_lexical(sparse_vector("scene word3"), 20):
            assert hit.payload["video_id"], hit

    def drop() -> None:
        store.drop()
        time.sleep(0.002)

    threads = [guarded(write), guarded(write), guarded(drop), guarded(search), guarded(search)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [], repr(errors[:3])
