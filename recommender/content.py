"""Content-based scores: how close each video's vector is to what the user liked, and how far from what they turned away from."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Protocol

import numpy as np
from threadpoolctl import ThreadpoolController

from core.vectors.sync import VideoIndex as SyncedVideoIndex
from recommender.reasons import newest_near_best


class ContentSearch(Protocol):
    """The seam for the content signal: weighted positive and negative video vectors in, the
    `limit` best videos out as {video id: score}. The embedded default scans a matrix
    (MatrixSearch); served mode asks Qdrant's recommend query over the video-level collection
    (IndexSearch), with the same scores."""

    def __call__(
        self,
        positive: np.ndarray,  # (p, dim)
        positive_weights: np.ndarray,  # (p,) > 0
        negative: np.ndarray,  # (q, dim)
        negative_weights: np.ndarray,  # (q,) > 0: how strongly to move away
        limit: int,
    ) -> dict[str, float]: ...


def normalize_rows(matrix: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero), so a dot product is a cosine: the
    score Qdrant gives in served mode too, so both modes rank alike.

    Not centred on the library's mean: measured on a library crowded by one topic, centring
    turns that topic's mean into the origin and makes videos half in it look opposed to it."""
    matrix = np.asarray(matrix, dtype=np.float32)  # (videos, dim)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 1e-12)


@lru_cache(maxsize=1)
def _blas() -> ThreadpoolController:
    return ThreadpoolController()  # scans the loaded libraries once; limiting is cheap after


def weighted_mean(vectors: np.ndarray, weights: np.ndarray) -> np.ndarray | None:
    """Σ w·v / Σ w, or None when there is nothing to average."""
    weights = np.asarray(weights, dtype=np.float32)
    if len(weights) == 0 or float(weights.sum()) <= 0:
        return None
    return (weights @ np.asarray(vectors, dtype=np.float32)) / float(weights.sum())


def content_scores(
    matrix: np.ndarray,
    positive: np.ndarray,
    positive_weights: np.ndarray,
    negative: np.ndarray,
    negative_weights: np.ndarray,
    *,
    negative_weight: float,
) -> np.ndarray:
    """Per row of `matrix` (unit vectors): the weighted mean cosine to the positives minus
    `negative_weight` times the weighted mean cosine to the negatives (Rocchio). Linear, so it
    is one matrix-vector product however long the history. No positives and no negatives: zeros."""
    toward = weighted_mean(positive, positive_weights)
    away = weighted_mean(negative, negative_weights)
    profile = np.zeros(matrix.shape[1], np.float32)
    if toward is not None:
        profile += toward
    if away is not None:
        profile -= negative_weight * away
    # One BLAS thread: a matrix-vector product is bound by memory, and on a busy machine (model
    # inference, workers) extra BLAS threads wait for cores. Measured at 10k x 384 on two busy
    # cores: 0.3 ms on one thread, 12 ms on two.
    with _blas().limit(limits=1, user_api="blas"):
        return matrix @ profile


def best_match(
    candidates: np.ndarray,
    positive: np.ndarray,
    positive_weights: np.ndarray,
    positive_times: np.ndarray | None = None,
) -> np.ndarray:
    """For each candidate vector, the index of the positive that pulls it up most (weight x
    cosine): the video a reason names; with ``positive_times``, the newest of those that pull
    nearly as much (recommender/reasons.newest_near_best). -1 where there are no positives."""
    if len(positive) == 0:
        return np.full(len(candidates), -1, dtype=np.int64)
    pull = (candidates @ np.asarray(positive).T) * np.asarray(positive_weights)[None, :]
    return newest_near_best(pull.T, positive_times)


class MatrixSearch:
    """ContentSearch over the in-memory matrix of the embedded default."""

    def __init__(self, matrix: np.ndarray, ids: Sequence[str], *, negative_weight: float) -> None:
        self.matrix = matrix
        self.ids = list(ids)
        self.negative_weight = negative_weight

    def __call__(
        self,
        positive: np.ndarray,
        positive_weights: np.ndarray,
        negative: np.ndarray,
        negative_weights: np.ndarray,
        limit: int,
    ) -> dict[str, float]:
        if len(self.ids) == 0 or (len(positive) == 0 and len(negative) == 0):
            return {}
        scores = content_scores(
            self.matrix,
            positive,
            positive_weights,
            negative,
            negative_weights,
            negative_weight=self.negative_weight,
        )
        limit = min(limit, len(scores))
        top = np.argpartition(-scores, limit - 1)[:limit]
        return {self.ids[i]: float(scores[i]) for i in top}


class VideoIndex(SyncedVideoIndex, Protocol):
    """A video-level vector index outside the process, one point per video (served mode:
    core.vectors.open_video_index, a Qdrant collection kept in step by the sync)."""

    def vectors(self, video_ids: Sequence[str]) -> dict[str, np.ndarray]: ...
    def recommend(
        self, positive: np.ndarray | None, negative: np.ndarray | None, limit: int
    ) -> dict[str, float]: ...  # {video id: unit vector . (positive - negative)}
    def count(self) -> int: ...


class IndexSearch:
    """ContentSearch answered by a video-level index: the profile MatrixSearch scans for (the
    weighted mean of the positives, minus `negative_weight` times that of the negatives) as one
    positive and one negative example of the index's recommend query, so the scores are the
    same dot products. The weights are folded in here because the index's examples carry none."""

    def __init__(self, index: VideoIndex, *, negative_weight: float) -> None:
        self.index = index
        self.negative_weight = negative_weight

    def __call__(
        self,
        positive: np.ndarray,
        positive_weights: np.ndarray,
        negative: np.ndarray,
        negative_weights: np.ndarray,
        limit: int,
    ) -> dict[str, float]:
        toward = weighted_mean(positive, positive_weights)
        away = weighted_mean(negative, negative_weights)
        if toward is None and away is None:
            return {}
        return self.index.recommend(
            toward, None if away is None else self.negative_weight * away, limit
        )


class FetchedVectors:
    """A snapshot's video vectors by row, for one recommendation: fetched from a video index
    the first time a row is asked for (the user's history, then the ranker's pool), so a call
    reads a few hundred vectors, never the library's. A video the index lacks (its sync is
    behind) reads as a zero vector: like nothing, unlike nothing."""

    def __init__(self, ids: Sequence[str], index: VideoIndex) -> None:
        self.ids = ids
        self.index = index
        self._rows: dict[int, np.ndarray | None] = {}
        self._dim = 0

    def __call__(self, rows: np.ndarray) -> np.ndarray:
        missing = list(dict.fromkeys(int(r) for r in rows if int(r) not in self._rows))
        if missing:
            got = self.index.vectors([self.ids[r] for r in missing])
            found = [r for r in missing if self.ids[r] in got]
            self._rows.update(dict.fromkeys(missing))
            if found:
                unit = normalize_rows(np.stack([got[self.ids[r]] for r in found]))
                self._rows.update(zip(found, unit, strict=True))
                self._dim = unit.shape[1]
        out = np.zeros((len(rows), self._dim), np.float32)  # (rows, dim)
        for i, r in enumerate(rows):
            vec = self._rows[int(r)]
            if vec is not None and len(vec) == self._dim:
                out[i] = vec
        return out
