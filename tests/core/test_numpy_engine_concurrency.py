"""The embedded numpy index answers searches while it is dropped and reloaded from a snapshot
(the API's /reindex, a warm start): every read sees a whole index, an empty one or the new one,
never half of one. bench/faults.py once caught a search failing with IndexError mid-reload."""

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
                for pid, _ in hits[:5]:
                    mem.vector(pid, "text")
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
