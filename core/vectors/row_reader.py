"""Read a few rows of a large memory-mapped ``.npy`` matrix with ``pread`` instead of through
the mapping.

A page fault on a mapped file maps the pages around it that are already cached (Linux's fault
around, 64 KB; ``MADV_RANDOM`` does not turn it off), so a search that reads 300 scattered
1.5 KB rows to score its candidates exactly maps about 20 MB, and a process that has served a
few hundred searches has the whole 1.5 GB matrix of a million segments in its resident set,
counted against it although the pages are the page cache's. ``pread`` copies just the rows
asked for and maps nothing. A large gather (an exact scan of a filtered share of the rows) goes
through the mapping, where one copy of many rows beats a system call per row.
"""

from __future__ import annotations

import os
import weakref

import numpy as np

# Up to this many rows a gather is one pread per row (about 2 us each from the page cache);
# past it, the mapping's vectorised copy is faster.
PREAD_ROWS = 4096
HAS_PREADV = hasattr(os, "preadv")  # Linux and the BSDs; elsewhere every gather is a mapped copy


class RowReader:
    """Rows of one memory-mapped ``.npy`` matrix (C order), read by ``pread``. Thread-safe:
    ``pread`` takes its offset, so readers share the one descriptor. The descriptor is opened
    with the mapping, so a base folder removed while a process still searches it stays readable
    (as its mapping does)."""

    def __init__(self, matrix: np.memmap) -> None:
        if matrix.ndim != 2 or not matrix.flags.c_contiguous:
            raise ValueError(f"{matrix.filename}: expected a C-order matrix")
        self.matrix = matrix
        self._row_bytes = int(matrix.shape[1]) * matrix.dtype.itemsize
        self._offset = int(matrix.offset)
        self._fd = os.open(str(matrix.filename), os.O_RDONLY)
        if hasattr(os, "posix_fadvise"):
            # Scattered rows: reading ahead of each would fetch pages no search asked for.
            os.posix_fadvise(self._fd, 0, 0, os.POSIX_FADV_RANDOM)
        weakref.finalize(self, os.close, self._fd)

    def take(self, rows: np.ndarray) -> np.ndarray:
        """The rows asked for, in that order, as a new array."""
        rows = np.asarray(rows, np.int64)
        if len(rows) > PREAD_ROWS or not HAS_PREADV:
            return np.asarray(self.matrix[rows])
        out = np.empty((len(rows), self.matrix.shape[1]), self.matrix.dtype)
        flat = out.reshape(-1).view(np.uint8).data
        size, base, fd = self._row_bytes, self._offset, self._fd
        for i, row in enumerate(rows.tolist()):
            got = os.preadv(fd, [flat[i * size : (i + 1) * size]], base + row * size)
            if got != size:
                raise OSError(
                    f"{self.matrix.filename}: row {row} is cut short ({got} of {size} bytes)"
                )
        return out
