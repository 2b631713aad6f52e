"""Rows of a mapped matrix read by pread: the same values as the mapping gives, in the order
asked, without mapping the file's pages into the process (core/vectors/row_reader.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.vectors import row_reader
from core.vectors.row_reader import RowReader


def _mapped_kb(path: Path) -> int:
    """Resident kB of this process's mappings of one file (/proc/self/smaps)."""
    total, inside = 0, False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        head = line.split()
        if head and "-" in head[0] and len(head) >= 5:  # a mapping's first line
            inside = len(head) >= 6 and head[-1] == str(path)
        elif inside and line.startswith("Rss:"):
            total += int(head[1])
    return total


@pytest.fixture
def matrix(tmp_path: Path) -> tuple[Path, np.ndarray]:
    values = np.random.default_rng(0).standard_normal((20_000, 384)).astype(np.float32)
    path = tmp_path / "video.npy"
    np.save(path, values)  # the file's pages are now in the page cache, as a served base's are
    return path, values


def test_rows_come_back_in_the_order_asked_with_the_mapping_values(matrix):
    path, values = matrix
    reader = RowReader(np.load(path, mmap_mode="r"))
    rows = np.array([19_999, 0, 7, 7, 12_345])
    assert np.array_equal(reader.take(rows), values[rows])
    assert reader.take(np.zeros(0, np.int64)).shape == (0, 384)


def test_a_large_gather_goes_through_the_mapping_with_the_same_values(matrix, monkeypatch):
    path, values = matrix
    monkeypatch.setattr(row_reader, "PREAD_ROWS", 10)
    rows = np.random.default_rng(1).integers(0, len(values), 50)
    assert np.array_equal(RowReader(np.load(path, mmap_mode="r")).take(rows), values[rows])


def test_scattered_rows_read_by_pread_map_none_of_the_file(matrix):
    path, _ = matrix
    rows = np.random.default_rng(2).choice(20_000, 1_000, replace=False)
    mapped = np.load(path, mmap_mode="r")
    reader = RowReader(mapped)
    reader.take(rows)
    by_pread = _mapped_kb(path)
    np.asarray(mapped[rows])  # the same rows through the mapping: fault-around maps far more
    by_mapping = _mapped_kb(path)
    assert by_pread <= 64, by_pread
    assert by_mapping >= 4 * 1_000, by_mapping  # at least a page a row
