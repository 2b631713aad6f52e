"""What a segment shows of people, as the catalog and the index payload keep it: how many people
and faces its frames show and how large the largest face is (a share of the frame's height),
as JSON text. The detectors are indexer/people.py; the words and the query side, search/people.py.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

FIELDS = ("people", "faces", "largest_face")


def people_to_text(seen: Mapping[str, float]) -> str:
    if not seen:
        return "{}"
    return json.dumps({k: float(seen.get(k, 0.0)) for k in FIELDS}, separators=(",", ":"))


def people_from_text(text: str | None) -> dict[str, float]:
    """The stored form read back; NULL (never looked for) or unreadable text gives {} (the
    people signal then scores the segment 0, and describes nobody)."""
    if not text:
        return {}
    try:
        raw = json.loads(text)
        # "{}": looked for, but there was no picture to look at (a thumbnail gone from disk).
        return {k: float(raw.get(k, 0.0)) for k in FIELDS} if raw else {}
    except (ValueError, TypeError, AttributeError):
        return {}


def screen_lines(text: str | None) -> list[str]:
    """The on-screen text as the catalog keeps it (one read line per line) back as lines."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]
