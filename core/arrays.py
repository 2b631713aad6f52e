"""How vectors are stored in the catalog: little-endian float32 (float16 for bulky clip features)."""

from __future__ import annotations

import numpy as np


def pack_f32(vector: np.ndarray) -> bytes:
    return np.ascontiguousarray(vector, dtype="<f4").tobytes()


def unpack_f32(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype="<f4").copy()


def pack_f16_matrix(matrix: np.ndarray) -> bytes:
    """A (rows, cols) matrix as float16, prefixed by its column count so it unpacks unaided."""
    matrix = np.atleast_2d(np.asarray(matrix, dtype="<f2"))
    header = np.array([matrix.shape[1]], dtype="<u4").tobytes()
    return header + np.ascontiguousarray(matrix).tobytes()


def unpack_f16_matrix(blob: bytes) -> np.ndarray:
    cols = int(np.frombuffer(blob[:4], dtype="<u4")[0])
    return np.frombuffer(blob[4:], dtype="<f2").reshape(-1, cols).astype(np.float32)
