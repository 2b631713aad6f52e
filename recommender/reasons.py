"""Why a video is recommended, in words a person can read: the signal that contributed most, and the video behind it."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

# A reason names the user's video that pulls a result up most, unless another pulls nearly as
# much (this share of the best, or more) and was watched more recently: then the newest does, so
# reasons follow what the user did last (a video finished today is named rather than one liked
# a week ago that weighs half again as much).
NEAR_BEST = 2 / 3


class ReasonKind:
    CONTENT = "content"  # looks and sounds like something the user watched
    CO_WATCH = "co-watch"  # people who watched what the user watched also watched it
    POPULAR = "popular"
    NEW = "new"
    LIBRARY = "library"  # nothing speaks for it more than anything else: it is simply there

    # Ties go to the more personal reason.
    ORDER = (CONTENT, CO_WATCH, POPULAR, NEW)


def dominant(contributions: Mapping[str, float]) -> str:
    """The kind whose contribution to the score is largest and positive; LIBRARY if none is."""
    best, best_value = ReasonKind.LIBRARY, 0.0
    for kind in ReasonKind.ORDER:
        value = contributions.get(kind, 0.0)
        if value > best_value:
            best, best_value = kind, value
    return best


def reason_text(kind: str, *, title: str | None = None, liked: bool = False) -> str:
    """The sentence shown beside a recommendation. `title` names the user's own video behind a
    content or co-watch reason; without one those fall back to the library reason."""
    if kind == ReasonKind.CONTENT and title:
        return f"because you {'liked' if liked else 'watched'} {title}"
    if kind == ReasonKind.CO_WATCH and title:
        return f"people who watched {title} also watched this"
    if kind == ReasonKind.POPULAR:
        return "popular in your library"
    if kind == ReasonKind.NEW:
        return "new"
    return "in your library"


def newest_near_best(pull: np.ndarray, times: np.ndarray | None) -> np.ndarray:
    """For each column of ``pull`` (positives x candidates), the row to name: the largest, or
    with ``times`` (each positive's latest event, seconds) the newest row within NEAR_BEST of
    the largest."""
    pull = np.asarray(pull, dtype=np.float64)
    best = np.argmax(pull, axis=0)
    if times is None or pull.shape[0] < 2:
        return best
    top = pull.max(axis=0)
    near = pull >= NEAR_BEST * top[None, :]
    near &= top[None, :] > 0
    when = np.where(near, np.asarray(times, dtype=np.float64)[:, None], -np.inf)
    newest = np.argmax(when, axis=0)
    return np.where(near.any(axis=0), newest, best)
