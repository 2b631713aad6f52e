"""What a stretch of video shows, in the words people read on a moment, a video page and a
summary: the people seen (search/people.py: no number past one, as the detectors' are rough),
the hedged visual tags (only as specific as the frame classifier is sure, videobert/hedging.py),
how the picture looks (core/looks.py: dark, black and white, colourful, a colour that fills it)
and the text read on screen. Never the classifier's raw top classes: a city at night is not a
"scoreboard" because that class came first. Nothing here claims more than those measure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from search.looks import COLOUR_FULL_SHARE, FULL_SHARE
from search.people import people_words

# How much of the picture a look must fill before the words say it: stricter than search's full
# shares, since a description must not overstate (a quarter of dark pixels is not "dark").
SAYS_DARK = FULL_SHARE["dark"]
SAYS_GREY = FULL_SHARE["grey"]
SAYS_COLOURFUL = FULL_SHARE["colourful"]
SAYS_HUE = 1.4 * COLOUR_FULL_SHARE  # a colour is "mostly" there when it fills over a third
HUES = ("red", "orange", "yellow", "green", "blue", "purple", "pink")
NOTHING_NAMED = "nothing the picture model can name"
MAX_SCREEN_CHARS = 80  # of on-screen text on a moment or a summary line: a slide's first lines


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


def screen_words(on_screen: Sequence[str] | None, limit: int = MAX_SCREEN_CHARS) -> str:
    """The text read on screen, quoted and cut to ``limit`` characters: 'on screen: “STOP”'."""
    # Brackets would end the moment's "[seen: ...]" early for whoever parses it.
    lines = [line.strip().replace("[", "(").replace("]", ")") for line in on_screen or ()]
    lines = [line for line in lines if line]
    if not lines:
        return ""
    text = " / ".join(lines)
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return f"on screen: “{text}”"


def screen_sentence(on_screen: Sequence[str] | None) -> str:
    """``screen_words`` as a summary's sentence ('On screen: “STOP”.'), or ""."""
    words = screen_words(on_screen)
    return words[0].upper() + words[1:] + "." if words else ""


def _said_parts(
    tags: str | Sequence[str] | None,
    looks: Mapping[str, float] | None,
    people: Mapping[str, float] | None,
    shows: str,
) -> list[str]:
    """Who is seen, what is named (after ``shows``), and the looks: "a dark scene" when the
    looks are all there is to say."""
    who = people_words(people)
    named = split_tags(tags)
    how = look_words(looks)
    parts = [", ".join(who)] if who else []
    if named:
        parts.append(shows + ", ".join(named))
    if how:
        parts.append(", ".join(how) if parts else f"a {', '.join(how)} scene")
    return parts


def seen_text(
    tags: str | Sequence[str] | None,
    looks: Mapping[str, float] | None,
    people: Mapping[str, float] | None = None,
    on_screen: Sequence[str] | None = None,
) -> str:
    """One line for what a stretch shows: "a few people · vehicle, tram · dark, mostly blue ·
    on screen: “STOP”"; "a dark scene" when only looks are said; "" when there is nothing to
    say."""
    parts = _said_parts(tags, looks, people, shows="")
    if shown := screen_words(on_screen):
        parts.append(shown)
    return " · ".join(parts)


def sentence(
    tags: str | Sequence[str] | None,
    looks: Mapping[str, float] | None,
    people: Mapping[str, float] | None = None,
    on_screen: Sequence[str] | None = None,
) -> str:
    """What a silent stretch shows as a summary's sentence; never empty: a stretch with nothing
    to say says so. "A few people; shows vehicle; dark. On screen: “STOP”." """
    seen = "; ".join(_said_parts(tags, looks, people, shows="shows "))
    shown = screen_words(on_screen)
    if not seen and not shown:
        seen = NOTHING_NAMED
    return " ".join(p[0].upper() + p[1:] + "." for p in (seen, shown) if p)
