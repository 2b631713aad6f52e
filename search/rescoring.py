"""Signals that rescore the other signals' candidates instead of searching the index themselves
(concept, looks): each candidate once, scored by what its payload stores."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from core.vectors import Hit


def rescore(
    candidates: Iterable[Sequence[Hit]], score_of: Callable[[Mapping[str, Any]], float]
) -> list[Hit]:
    """The union of the candidates, scored by ``score_of(payload)``; those scoring 0 are left
    out, the rest best first (ties by id, so results are stable)."""
    seen: dict[str, Hit] = {}
    for signal_hits in candidates:
        for h in signal_hits:
            seen.setdefault(h.id, h)
    out = []
    for pid, h in seen.items():
        score = score_of(h.payload)
        if score > 0:
            out.append(Hit(pid, score, h.payload))
    out.sort(key=lambda h: (-h.score, h.id))
    return out
