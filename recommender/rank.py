"""The ranking itself: signals combined with named weights, what the user has seen left out, and the top diversified."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from recommender.collaborative import CoWatchWeights
from recommender.diversify import mmr_with_gains
from recommender.feedback import FeedbackWeights
from recommender.reasons import ReasonKind


@dataclass(frozen=True)
class RankWeights:
    """Every knob of the ranking, in one place. Content and co-watch scores are mean cosines
    (about 0 to 1); popularity and recency are scaled to 0 to 1, and weigh less so that they
    decide for a new user and break ties for everyone else."""

    content: float = 1.0
    co_watch: float = 1.0
    popularity: float = 0.15
    recency: float = 0.1
    negative: float = 0.5  # content: how far to move away from skipped and disliked videos
    mmr_trade_off: float = 0.7  # 1: relevance only; lower: more variety in the top
    pool: int = 50  # MMR chooses among this many best (at least 3x the limit)
    content_candidates: int = 500  # the content signal's top videos (the rest score 0)
    new_half_life_days: float = 7.0
    new_within_days: float = 30.0  # older than this is not "new"
    popular_window_days: float = 90.0  # popularity counts viewers of this long ago and since
    feedback: FeedbackWeights = field(default_factory=FeedbackWeights)
    co_watching: CoWatchWeights = field(default_factory=CoWatchWeights)


@dataclass(frozen=True)
class Components:
    """Each signal's score per video (rows of the library), shape (videos,) each."""

    content: np.ndarray
    co_watch: np.ndarray
    popularity: np.ndarray
    recency: np.ndarray


@dataclass(frozen=True)
class Ranked:
    index: int  # row in the library
    score: float  # the diversified score (MMR's gain): falls down the list, as the order does
    contributions: dict[str, float]  # ReasonKind -> weight x signal
    relevance: float = 0.0  # the combined signals before diversifying


def combine(components: Components, weights: RankWeights) -> tuple[np.ndarray, np.ndarray]:
    """(total score per video, contributions (4, videos) in ReasonKind.ORDER)."""
    parts = np.stack(
        [
            weights.content * np.asarray(components.content, np.float32),
            weights.co_watch * np.asarray(components.co_watch, np.float32),
            weights.popularity * np.asarray(components.popularity, np.float32),
            weights.recency * np.asarray(components.recency, np.float32),
        ]
    )
    return parts.sum(axis=0), parts


RowVectors = Callable[[np.ndarray], np.ndarray]  # rows of the library -> (rows, dim) unit vectors


def rank(
    components: Components,
    vectors: np.ndarray | RowVectors,
    excluded: np.ndarray,
    limit: int,
    weights: RankWeights = RankWeights(),
) -> list[Ranked]:
    """The `limit` best videos not `excluded` (a boolean mask), diversified by MMR over their
    `vectors` (unit rows: a matrix, or a function that gives the rows asked for, so served mode
    reads only the pool's) among the best `pool`; best first."""
    total, parts = combine(components, weights)
    eligible = np.flatnonzero(~np.asarray(excluded, dtype=bool))
    if limit <= 0 or len(eligible) == 0:
        return []
    pool_size = min(max(weights.pool, 3 * limit), len(eligible))
    scores = total[eligible]
    pool = eligible[np.argpartition(-scores, pool_size - 1)[:pool_size]]
    pool = pool[np.argsort(-total[pool], kind="stable")]
    pool_vectors = vectors(pool) if callable(vectors) else vectors[pool]
    order, gains = mmr_with_gains(total[pool], pool_vectors, limit, trade_off=weights.mmr_trade_off)
    out = []
    for i, gain in zip(order, gains, strict=True):
        row = int(pool[i])
        contributions = {kind: float(parts[k, row]) for k, kind in enumerate(ReasonKind.ORDER)}
        # The score shown is the one the order follows: relevance after diversifying.
        out.append(Ranked(row, gain, contributions, relevance=float(total[row])))
    return out
