"""Scores that need no history of the user: how many people watched each video, and how new it is (cold start)."""

from __future__ import annotations

import numpy as np

from recommender.feedback import SECONDS_PER_DAY


def popularity_scores(viewers: np.ndarray) -> np.ndarray:
    """log(1 + viewers) scaled so the most watched video scores 1: the tenth viewer adds less
    than the first. All zeros when nobody has watched anything."""
    viewers = np.asarray(viewers, dtype=np.float32)
    top = float(viewers.max()) if len(viewers) else 0.0
    if top <= 0:
        return np.zeros(len(viewers), np.float32)
    return np.log1p(viewers) / np.log1p(top)


def recency_scores(
    age_seconds: np.ndarray, *, half_life_days: float, within_days: float
) -> np.ndarray:
    """1 for a video indexed just now, halving every `half_life_days`; 0 once older than
    `within_days` (it is not new any more, and must not be called so). Future times count as now."""
    age = np.maximum(np.asarray(age_seconds, dtype=np.float64), 0.0)
    fresh = 0.5 ** (age / (half_life_days * SECONDS_PER_DAY))
    return np.where(age <= within_days * SECONDS_PER_DAY, fresh, 0.0).astype(np.float32)
