"""How a moment's time is written wherever people read it: summaries, the CLI, the web pages."""

from __future__ import annotations


def clock(seconds: float | None) -> str:
    """0:07, 12:40, 1:02:03 (a missing or negative time reads 0:00)."""
    s = max(0, int(seconds or 0))
    if s >= 3600:
        return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"
    return f"{s // 60}:{s % 60:02d}"
