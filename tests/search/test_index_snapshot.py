"""The embedded index's warm start: a new process maps the snapshot instead of re-reading every
catalog row; a damaged snapshot is rebuilt and a stale one refreshed, with the same answers."""

from __future__ import annotations

import numpy as np
import pytest

import core.vectors.sync as sync_module
from core.db import session_scope
from core.lexical import sparse_vector
from core.models import Video
from core.vectors.snapshot import POINTER, load_snapshot
from search.live import LiveIndex
from tests.catalog_helpers import add_ready_video

QUERY = np.random.default_rng(7).normal(size=8).astype(np.float32)


def answers(live: LiveIndex) -> tuple:
    live.ensure_fresh()
    store = live.store
    return (
        [(h.id, round(h.score, 6)) for h in store.search_dense("video", QUERY, 20)],
        [(h.id, round(h.score, 6)) for h in store.search_dense("text", QUERY, 20)],
        sorted(
            (h.id, round(h.score, 6)) for h in store.search_lexical(sparse_vector("red car"), 20)
        ),
        store.count(),
    )


@pytest.fixture
def library(settings):
    for i in range(4):
        add_ready_video(settings, f"v{i}.mp4", [f"red car {i}", "a boat", "espresso"], seed=i)
    return settings


def count_catalog_reads(monkeypatch) -> list[str]:
    """Every segment turned into a point from its catalog row (what a warm start avoids)."""
    reads: list[str] = []
    real = sync_module.segment_point

    def counting(video, segment):  # type: ignore[no-untyped-def]
        reads.append(video.id)
        return real(video, segment)

    monkeypatch.setattr(sync_module, "segment_point", counting)
    return reads


def test_a_new_process_starts_from_the_snapshot_without_reading_catalog_rows(library, monkeypatch):
    first = LiveIndex(library)
    expected = answers(first)
    assert load_snapshot(first.snapshot_folder) is not None
    reads = count_catalog_reads(monkeypatch)
    second = LiveIndex(library)  # as a new process would
    assert answers(second) == expected and expected[3] == 12
    assert reads == []


def test_a_damaged_snapshot_is_never_trusted_and_the_index_is_rebuilt(library, monkeypatch):
    first = LiveIndex(library)
    expected = answers(first)
    folder = first.snapshot_folder
    current = folder / (folder / POINTER).read_text().strip()
    data = bytearray((current / "video.npy").read_bytes())
    data[-8:] = b"\x00\x00\x80\x7f" * 2  # two vectors' last values become infinities
    (current / "video.npy").write_bytes(bytes(data))
    assert load_snapshot(folder) is None  # the checksum catches it
    reads = count_catalog_reads(monkeypatch)
    second = LiveIndex(library)
    assert answers(second) == expected
    assert len(reads) == 12  # rebuilt from every catalog row
    assert load_snapshot(folder) is not None  # and a whole snapshot written again


@pytest.mark.parametrize("damage", ["missing file", "truncated record", "dangling pointer"])
def test_an_incomplete_snapshot_is_rebuilt(library, damage):
    first = LiveIndex(library)
    expected = answers(first)
    folder = first.snapshot_folder
    current = folder / (folder / POINTER).read_text().strip()
    if damage == "missing file":
        (current / "payloads.json").unlink()
    elif damage == "truncated record":
        (current / "record.json").write_text('{"format": 1, "fi')
    else:
        (folder / POINTER).write_text("snap-that-is-not-there")
    assert answers(LiveIndex(library)) == expected


def test_a_stale_snapshot_is_refreshed_with_only_what_changed(library, monkeypatch):
    first = LiveIndex(library)
    answers(first)
    new = add_ready_video(library, "new.mp4", ["a red car again", "snow"], seed=9)
    with session_scope(library) as s:
        gone = s.query(Video).filter(Video.title == "v0.mp4").one()
        s.delete(gone)
    reads = count_catalog_reads(monkeypatch)
    second = LiveIndex(library)
    got = answers(second)
    assert set(reads) == {new} and len(reads) == 2  # only the new video's rows were read
    rebuilt = LiveIndex(library, snapshots=False)
    assert got == answers(rebuilt) and got[3] == 11
    # the refreshed index was written back: a third start reads nothing
    reads.clear()
    assert answers(LiveIndex(library)) == got and reads == []
