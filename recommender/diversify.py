"""Maximal marginal relevance over video vectors: the next result is relevant and unlike the ones already shown."""

from __future__ import annotations

import numpy as np


def mmr(relevance: np.ndarray, vectors: np.ndarray, k: int, *, trade_off: float) -> list[int]:
    """Up to `k` indices into `relevance`, greedily maximising
    trade_off * relevance - (1 - trade_off) * (highest cosine to an index already chosen).
    `relevance` is divided by its largest magnitude first, so the best scores 1 like a duplicate's
    cosine and ratios between scores survive (min-max scaling would put the pool's last at 0
    however close it is); `vectors` are unit rows. trade_off 1 is plain ranking by relevance."""
    return mmr_with_gains(relevance, vectors, k, trade_off=trade_off)[0]


def mmr_with_gains(
    relevance: np.ndarray, vectors: np.ndarray, k: int, *, trade_off: float
) -> tuple[list[int], list[float]]:
    """``mmr``'s choice and, for each, the gain it was chosen with. The gains never rise down
    the list (a candidate's gain only falls as more is chosen, and each step takes the largest),
    so they are the score that matches the order shown."""
    n = len(relevance)
    k = min(k, n)
    if k <= 0:
        return [], []
    rel = np.asarray(relevance, dtype=np.float64)
    scale = np.abs(rel).max()
    rel = rel / scale if scale > 0 else rel
    sims = np.clip(np.asarray(vectors, dtype=np.float64) @ np.asarray(vectors).T, 0.0, 1.0)
    chosen: list[int] = []
    gains: list[float] = []
    closest = np.zeros(n)  # highest similarity to anything chosen so far
    available = np.ones(n, dtype=bool)
    for _ in range(k):
        gain = trade_off * rel - (1.0 - trade_off) * closest
        gain[~available] = -np.inf
        best = int(np.argmax(gain))
        chosen.append(best)
        gains.append(float(gain[best]))
        available[best] = False
        closest = np.maximum(closest, sims[best])
    return chosen, gains
