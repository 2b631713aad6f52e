"""A segment's class beliefs as the catalog and the index keep them: the frame classifier's likely
ImageNet classes with their probabilities, as JSON text (class index -> probability)."""

from __future__ import annotations

import json
from collections.abc import Mapping


def beliefs_to_text(beliefs: Mapping[int, float]) -> str:
    return json.dumps({str(c): float(p) for c, p in beliefs.items()}, separators=(",", ":"))


def beliefs_from_text(text: str | None) -> dict[int, float]:
    """Read the stored form back. A segment indexed before beliefs were kept has none (NULL),
    and so does one whose text does not parse: the concept signal then scores it 0."""
    if not text:
        return {}
    try:
        raw = json.loads(text)
        return {int(c): float(p) for c, p in raw.items()}
    except (ValueError, TypeError, AttributeError):
        return {}
