"""Reading the looks a query asks for ("at night", "black and white", "a red ...", "colourful")
and scoring candidates by them (core/looks.py computes what each segment looks like)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from core.lexical import STOPWORDS
from core.vectors import Hit
from search.rescoring import rescore

# Phrases first: "black and white" is a kind of photo, not two colours.
PHRASES = {
    "black and white": "grey",
    "black-and-white": "grey",
    "black & white": "grey",
}
WORDS = {
    "night": "dark",
    "nighttime": "dark",
    "dark": "dark",
    "darkness": "dark",
    "dusk": "dark",
    "monochrome": "grey",
    "greyscale": "grey",
    "grayscale": "grey",
    "colourful": "colourful",
    "colorful": "colourful",
    "coloured": "colourful",
    "colored": "colourful",
    "multicoloured": "colourful",
    "multicolored": "colourful",
    "vivid": "colourful",
    "red": "red",
    "yellow": "yellow",
    "green": "green",
    "blue": "blue",
    "purple": "purple",
    "violet": "purple",
    "pink": "pink",
    "white": "white",
    "black": "black",
    "grey": "grey",
    "gray": "grey",
}
# A colour that is also a thing ("an orange") is a look only when it describes the next word.
DESCRIBING_ONLY = {"orange": "orange"}
# The share of a frame's pixels at which a look counts as fully there: a red car fills a quarter
# of the frame at most, a night scene most of it.
FULL_SHARE = {"dark": 0.6, "grey": 0.85, "colourful": 0.5, "white": 0.3, "black": 0.3}
COLOUR_FULL_SHARE = 0.25
_WORD = re.compile(r"[a-z]+(?:[-&][a-z]+)*")


def query_looks(text: str) -> list[str]:
    """The looks a query names, in order, each once."""
    lowered = text.casefold()
    found: list[str] = []
    for phrase, phrase_look in PHRASES.items():
        if phrase in lowered:
            found.append(phrase_look)
            lowered = lowered.replace(phrase, " ")
    words = _WORD.findall(lowered)
    for i, word in enumerate(words):
        look: str | None = WORDS.get(word)
        if look is None and word in DESCRIBING_ONLY:
            nxt = words[i + 1] if i + 1 < len(words) else None
            look = DESCRIBING_ONLY[word] if nxt and nxt not in STOPWORDS else None
        if look is not None and look not in found:
            found.append(look)
    return found


def looks_score(wanted: Sequence[str], looks: Mapping[str, float]) -> float:
    """How fully a segment shows every look asked for: the mean over them of its share, each
    scaled to its full share."""
    if not wanted or not looks:
        return 0.0
    total = 0.0
    for look in wanted:
        full = FULL_SHARE.get(look, COLOUR_FULL_SHARE)
        total += min(1.0, float(looks.get(look, 0.0)) / full)
    return total / len(wanted)


def looks_hits(wanted: Sequence[str], candidates: Iterable[Sequence[Hit]]) -> list[Hit]:
    """The candidates scored by the looks the query asks for (none asked: no hits)."""
    if not wanted:
        return []
    return rescore(candidates, lambda payload: looks_score(wanted, payload.get("looks") or {}))
