"""What a stretch of video shows, in the words people read on a moment, a video page and a
summary: the hedged visual tags (only as specific as the frame classifier is sure,
videobert/hedging.py) and how the picture looks (core/looks.py: dark, black and white, colourful,
a colour that fills it). Never the classifier's raw top classes: a city at night is not a
"scoreboard" because that class came first. Nothing here claims more than those two measure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from search.looks import COLOUR_FULL_SHARE, FULL_SHARE

# How much of the picture a look must fill before the words say it: stricter than search's full
# shares, since a description must not overstate (a quarter of dark pixels is not "dark").
SAYS_DARK = FULL_SHARE["dark"]
SAYS_GREY = FULL_SHARE["grey"]
SAYS_COLOURFUL = FULL_SHARE["colourful"]
SAYS_HUE = 1.4 * COLOUR_FULL_SHARE  # a colour is "mostly" there when it fills over a third
HUES = ("red", "orange", "yellow", "green", "blue", "purple", "pink")
NOTHING_NAMED = "nothing the picture model can name"


def look_words(looks: Mapping[str, float] | None) -> list[str]:
    """The looks worth saying, most telling first: "dark", "black and white" or "colourful",
    and "mostly blue" when one colour fills the picture."""
    if not looks:
        return []
    words: list[str] = []
    if looks.get("dark", 0.0) >= SAYS_DARK:
        words.append("dark")
    if looks.get("grey", 0.0) >= SAYS_GREY:
        words.append("black and white")
    elif looks.get("colourful", 0.0) >= SAYS_COLOURFUL:
        words.append("colourful")
    hue = max(HUES, key=lambda h: looks.get(h, 0.0))
    if looks.get(hue, 0.0) >= SAYS_HUE:
        words.append(f"mostly {hue}")
    return words


def split_tags(tags: str | Sequence[str] | None) -> list[str]:
    """Tags as the catalog keeps them ("cat, vehicle") or as a list, without blanks."""
    if not tags:
        return []
    items = tags.split(",") if isinstance(tags, str) else list(tags)
    return [t.strip() for t in items if t and t.strip()]


def seen_text(tags: str | Sequence[str] | None, looks: Mapping[str, float] | None) -> str:
    """One line for what a stretch shows: "vehicle, tram · dark, mostly blue"; "a dark scene"
    when nothing is named; "" when there is nothing to say."""
    named = split_tags(tags)
    how = look_words(looks)
    if named:
        return ", ".join(named) + (f" · {', '.join(how)}" if how else "")
    if how:
        return f"a {', '.join(how)} scene"
    return ""


def sentence(tags: str | Sequence[str] | None, looks: Mapping[str, float] | None) -> str:
    """``seen_text`` as a summary's sentence; never empty: a stretch with nothing to say says
    so."""
    text = seen_text(tags, looks)
    if not text:
        return NOTHING_NAMED[0].upper() + NOTHING_NAMED[1:] + "."
    if split_tags(tags):
        return f"Shows {text.replace(' · ', '; ')}."
    return text[0].upper() + text[1:] + "."
