"""Co-watching across users: item-item similarity from who finished or liked what, and each video's score for one user."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.metrics.pairwise import cosine_similarity

from recommender.reasons import newest_near_best


@dataclass(frozen=True)
class CoWatchWeights:
    """When co-watching starts to count, and how much one shared viewer says."""

    min_users: int = 5  # fewer people with a history than this: no co-watch signal at all
    shrink: float = 3.0  # cosine x co/(co + shrink): two videos shared by one person count little
    neighbours: int = 50  # similar videos kept per video (bounds memory: videos x neighbours)


def item_item(
    pairs: Iterable[tuple[int, str]],
    index: Mapping[str, int],
    weights: CoWatchWeights = CoWatchWeights(),
) -> sparse.csr_matrix:
    """(videos, videos) similarity from (user, video) engagements: the cosine of two videos'
    audiences (scikit-learn) shrunk toward 0 where few people share them, diagonal 0, the top
    `neighbours` per row kept. Videos not in `index` are ignored; an all-zero matrix when fewer
    than `min_users` people have engaged with anything."""
    n = len(index)
    users: dict[int, int] = {}
    rows, cols = [], []
    for user, video in pairs:
        col = index.get(video)
        if col is None:
            continue
        rows.append(col)
        cols.append(users.setdefault(user, len(users)))
    if len(users) < max(weights.min_users, 1) or n == 0:
        return sparse.csr_matrix((n, n), dtype=np.float32)
    audience = sparse.csr_matrix(
        (np.ones(len(rows), np.float32), (rows, cols)), shape=(n, len(users))
    )
    audience.sum_duplicates()
    audience.data[:] = 1.0  # one person, one vote, however often they watched
    cosine = cosine_similarity(audience, dense_output=False).tocsr().astype(np.float32)
    shared = (audience @ audience.T).tocsr().astype(np.float32)  # people who watched both
    shared.data = shared.data / (shared.data + weights.shrink)
    similarity = cosine.multiply(shared).tocsr()
    similarity.setdiag(0.0)  # a video is not its own neighbour
    similarity.eliminate_zeros()
    return _top_per_row(similarity, weights.neighbours)


def _top_per_row(matrix: sparse.csr_matrix, k: int) -> sparse.csr_matrix:
    data, indices, indptr = [], [], [0]
    for row in range(matrix.shape[0]):
        start, end = matrix.indptr[row], matrix.indptr[row + 1]
        values, cols = matrix.data[start:end], matrix.indices[start:end]
        if len(values) > k:
            keep = np.argpartition(-values, k - 1)[:k]
            values, cols = values[keep], cols[keep]
        data.append(values)
        indices.append(cols)
        indptr.append(indptr[-1] + len(values))
    return sparse.csr_matrix(
        (
            np.concatenate(data) if data else np.zeros(0, np.float32),
            np.concatenate(indices) if indices else np.zeros(0, np.int32),
            np.array(indptr),
        ),
        shape=matrix.shape,
    )


def co_watch_scores(
    similarity: sparse.csr_matrix, positive: np.ndarray, positive_weights: np.ndarray
) -> np.ndarray:
    """Per video: the weighted mean similarity to the user's positive videos (row indices).
    Zeros without positives."""
    n = similarity.shape[0]
    weights = np.asarray(positive_weights, dtype=np.float32)
    if len(positive) == 0 or float(weights.sum()) <= 0:
        return np.zeros(n, np.float32)
    rows = similarity[np.asarray(positive)]  # (p, videos), sparse
    return np.asarray(rows.T @ weights).ravel() / float(weights.sum())


def best_co_watched(
    similarity: sparse.csr_matrix,
    candidates: np.ndarray,
    positive: np.ndarray,
    positive_weights: np.ndarray,
    positive_times: np.ndarray | None = None,
) -> np.ndarray:
    """For each candidate, the index (into `positive`) of the positive video whose audience
    explains it most: the video a reason names (with ``positive_times``, the newest of those
    nearly as strong). -1 where no positive shares any viewer."""
    if len(positive) == 0 or len(candidates) == 0:
        return np.full(len(candidates), -1, dtype=np.int64)
    pull = similarity[np.asarray(positive)][:, np.asarray(candidates)].toarray()  # (p, c)
    pull *= np.asarray(positive_weights, dtype=np.float32)[:, None]
    best = newest_near_best(pull, positive_times)
    best[pull.max(axis=0) <= 0] = -1
    return best
