"""People, as queries ask for them and descriptions say them: "a person", "people", "a crowd",
"a face", "a close-up", "a portrait", "someone talking" (a face while speech is heard) scored
from what the detectors counted in each segment (core/people.py, indexer/people.py), the way the
looks signal reads "at night"."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from core.vectors import Hit
from search.rescoring import rescore

PHRASES = {"close-up": "closeup", "close up": "closeup"}
WORDS = {
    **dict.fromkeys(
        ("person", "someone", "somebody", "man", "woman", "boy", "girl", "child", "kid"),
        "person",
    ),
    **dict.fromkeys(("human", "guy", "lady", "pedestrian", "player", "astronaut"), "person"),
    **dict.fromkeys(
        ("people", "persons", "men", "women", "pedestrians", "children", "kids", "players"),
        "people",
    ),
    **dict.fromkeys(("group", "couple", "family", "friends", "team"), "people"),
    **dict.fromkeys(("crowd", "crowds", "crowded", "audience"), "crowd"),
    **dict.fromkeys(("face", "faces", "facial"), "face"),
    **dict.fromkeys(("closeup", "portrait", "portraits", "headshot", "selfie"), "closeup"),
    **dict.fromkeys(
        ("talking", "talks", "speaking", "speaks", "speaker", "interview", "presenter"), "talking"
    ),
}
# How many people make each word fully true. The people detector overcounts by one or two in a
# busy street (tests/indexer/test_people.py), so a crowd needs several.
PEOPLE_FULL = 2.0
CROWD_FULL = 6.0
# The largest face's height, as a share of the frame's, at which a face is plainly a face (small
# boxes are where the cascade's false faces are) and at which it is a close-up or a portrait.
FACE_FULL = 0.12
CLOSEUP_FULL = 0.35
_WORD = re.compile(r"[a-z]+")


def query_people(text: str) -> list[str]:
    """The people-attributes a query asks for, in order, each once."""
    lowered = text.casefold()
    found: list[str] = []
    for phrase, attribute in PHRASES.items():
        if phrase in lowered:
            found.append(attribute)
            lowered = lowered.replace(phrase, " ")
    for word in _WORD.findall(lowered):
        named = WORDS.get(word)
        if named is not None and named not in found:
            found.append(named)
    return found


def attribute_score(attribute: str, seen: Mapping[str, float], speech: bool) -> float:
    """How fully one segment shows one attribute, 0 to 1."""
    people, faces, face = (
        seen.get("people", 0.0),
        seen.get("faces", 0.0),
        seen.get("largest_face", 0.0),
    )
    someone = max(people, faces)
    if attribute == "person":
        return 1.0 if someone >= 1 else 0.0
    if attribute == "people":
        return min(1.0, someone / PEOPLE_FULL) if someone >= 2 else 0.0
    if attribute == "crowd":
        return min(1.0, someone / CROWD_FULL) if someone >= 3 else 0.0
    if attribute == "face":
        return min(1.0, face / FACE_FULL) if faces >= 1 else 0.0
    if attribute == "closeup":
        return min(1.0, face / CLOSEUP_FULL) if faces >= 1 else 0.0
    if attribute == "talking":
        # A face while speech is heard; someone seen from afar while a voice speaks, half that.
        if not speech:
            return 0.0
        return 1.0 if faces >= 1 else (0.5 if people >= 1 else 0.0)
    raise ValueError(f"unknown people attribute {attribute!r}")


def people_score(wanted: Sequence[str], payload: Mapping[str, Any]) -> float:
    """The mean over the attributes asked for of how fully the segment shows each."""
    seen = payload.get("people") or {}
    if not wanted or not seen:
        return 0.0
    speech = bool(payload.get("has_speech"))
    return sum(attribute_score(a, seen, speech) for a in wanted) / len(wanted)


def people_hits(wanted: Sequence[str], candidates: Iterable[Sequence[Hit]]) -> list[Hit]:
    """The candidates scored by the people the query asks for (none asked: no hits)."""
    if not wanted:
        return []
    return rescore(candidates, lambda payload: people_score(wanted, payload))


def people_words(seen: Mapping[str, float] | None) -> list[str]:
    """What a description may say of the people seen: "a person", "a few people", "a group of
    people", and "a face in close-up" when a face fills the picture. The detectors miss people
    who are far, turned or overlapping (a count of 3 in vtest.avi where 8 walk) and rarely invent
    one, so a count is a lower bound: no number past one is said, which could be wrong."""
    if not seen:
        return []
    someone = int(max(seen.get("people", 0.0), seen.get("faces", 0.0)))
    if someone <= 0:
        return []
    words = [
        "a person" if someone == 1 else "a few people" if someone <= 5 else "a group of people"
    ]
    if seen.get("faces", 0.0) >= 1 and seen.get("largest_face", 0.0) >= CLOSEUP_FULL:
        words.append("a face in close-up")
    return words
