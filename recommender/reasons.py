"""Why a video is recommended, in words a person can read: the signal that contributed most, and the video behind it."""

from __future__ import annotations

from collections.abc import Mapping


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
