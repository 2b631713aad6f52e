"""Ranking math, small and pure: turning each signal's raw scores into evidence and fusing them.

Score fusion keeps how strongly each signal matched: a signal adds nothing below its floor and
its full weight at its ceiling. Rank fusion (RRF) is kept for comparison: it promotes a weak
match exactly as readily as a strong one, so it cannot support a relevance cut-off.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Calibration:
    """Where a signal's raw score starts to mean something (floor) and where it is certain (ceiling)."""

    weight: float
    floor: float
    ceiling: float

    def __post_init__(self) -> None:
        if self.ceiling <= self.floor:
            raise ValueError(f"ceiling {self.ceiling} must be above floor {self.floor}")
        if self.weight < 0:
            raise ValueError(f"weight must be non-negative, got {self.weight}")

    def evidence(self, raw: float) -> float:
        """0 at or below the floor, 1 at or above the ceiling, linear between."""
        return min(1.0, max(0.0, (raw - self.floor) / (self.ceiling - self.floor)))


def calibrations(data: Mapping[str, Mapping[str, float]]) -> dict[str, Calibration]:
    """A model's stored calibration (model_lifecycle/calibration.py) as ranking math."""
    return {
        name: Calibration(weight=v["weight"], floor=v["floor"], ceiling=v["ceiling"])
        for name, v in data.items()
    }


LEXICAL_HALF_SCORE = 3.0  # raw lexical score that counts as half-certain


def saturate(raw: float, half: float = LEXICAL_HALF_SCORE) -> float:
    """Map an unbounded IDF-weighted term score into [0, 1)."""
    return raw / (raw + half) if raw > 0 else 0.0


def fuse_scores(
    signals: Mapping[str, Mapping[str, float]], calibration: Mapping[str, Calibration]
) -> dict[str, float]:
    """Sum of calibrated evidence per item; an item only one signal found gets only that signal's."""
    fused: dict[str, float] = {}
    for name, scores in signals.items():
        cal = calibration.get(name)
        if cal is None:
            raise KeyError(f"no calibration for signal {name!r}; have {sorted(calibration)}")
        for item, raw in scores.items():
            gain = cal.weight * cal.evidence(raw)
            if gain > 0:
                fused[item] = fused.get(item, 0.0) + gain
    return fused


def reciprocal_rank_fusion(rankings: Mapping[str, Sequence[str]], k: int = 60) -> dict[str, float]:
    """Classic RRF: sum of 1 / (k + rank) over the rankings an item appears in."""
    fused: dict[str, float] = {}
    for ranking in rankings.values():
        for rank, item in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + 1.0 / (k + rank)
    return fused


def top(scores: Mapping[str, float], n: int | None = None) -> list[tuple[str, float]]:
    """Items by descending score, ties broken by id so results are stable."""
    ordered = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
    return ordered if n is None else ordered[:n]
