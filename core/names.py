"""How user names are compared: two names that look alike are one name.

A name is kept as it was typed; its key is the name after Unicode compatibility normalization
(NFKC: full-width letters, ligatures, superscripts), case folding ("BOSS", "Boss", "ß" as
"ss") and the removal of characters nobody sees (zero-width spaces and joiners, soft hyphens,
direction marks, variation selectors), with runs of white space made one space. The catalog
keeps the key unique, so a look-alike of an existing name is refused as taken."""

from __future__ import annotations

import re
import unicodedata

# Format characters (Cf: zero-width space, joiners, direction marks, soft hyphen, BOM) are
# found by category; these are invisible but categorised otherwise.
_INVISIBLE_EXTRA = {
    "\u034f",  # combining grapheme joiner (Mn)
    "\u115f",  # hangul choseong filler (Lo)
    "\u1160",  # hangul jungseong filler (Lo)
    "\u3164",  # hangul filler (Lo)
    "\uffa0",  # halfwidth hangul filler (Lo)
}
_SPACES = re.compile(r"\s+")


def _visible(ch: str) -> bool:
    if ch in _INVISIBLE_EXTRA:
        return False
    if "\ufe00" <= ch <= "\ufe0f" or "\U000e0100" <= ch <= "\U000e01ef":
        return False  # variation selectors
    return unicodedata.category(ch) != "Cf"


def name_key(name: str) -> str:
    """The form two names are compared in; equal keys are the same name."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    # Folding can undo the normalization (and vice versa): normalize once more after it.
    folded = unicodedata.normalize("NFKC", folded)
    kept = "".join(ch for ch in folded if _visible(ch))
    return _SPACES.sub(" ", kept).strip()


def has_invisible(name: str) -> bool:
    """Whether the name holds characters nobody would see."""
    return any(not _visible(ch) for ch in unicodedata.normalize("NFKC", name))
