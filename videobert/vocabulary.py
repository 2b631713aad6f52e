"""Reading a query in the frame classifier's own terms: which of the WordNet nodes above the 1000
ImageNet classes it names, and how likely a segment shows one of them.

The classifier knows "Pekinese" and "tabby", not "a dog" or "a building"; its classes are leaves
of WordNet's noun hierarchy, so every synonym of a class or of any node above classes ("taxi" is
a "cab", "building" covers church, palace, barn and 40 more) names a set of classes. A segment's
belief in a concept is the sum of its class probabilities over that set: the same arithmetic as a
hedged tag (videobert/hedging.py), read the other way round.

The words come with the hierarchy (videobert/data/imagenet_hierarchy.json, written by
scripts/build_imagenet_hierarchy.py); nothing here needs WordNet at run time.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from core.lexical import STOPWORDS
from videobert.hedging import MIN_BITS, load_hierarchy

# Words that are nouns in WordNet but, in a query, almost always mean something else than the
# ImageNet sense under them ("a match" is a game, not a matchstick; "a spring" a season).
NOT_OBJECTS = frozenset(
    [
        "abstraction",
        "agent",
        "area",
        "artifact",
        "attribute",
        "being",
        "board",
        "bond",
        "case",
        "cause",
        "course",
        "cover",
        "design",
        "drop",
        "entity",
        "equal",
        "fare",
        "feed",
        "figure",
        "fixing",
        "form",
        "game",
        "good",
        "hack",
        "head",
        "jack",
        "java",
        "killer",
        "kit",
        "level",
        "light",
        "match",
        "matter",
        "medium",
        "measure",
        "mike",
        "mortal",
        "murphy",
        "object",
        "organism",
        "part",
        "patch",
        "peer",
        "person",
        "pick",
        "piece",
        "point",
        "press",
        "ride",
        "round",
        "rule",
        "setup",
        "process",
        "region",
        "relation",
        "shade",
        "shades",
        "shape",
        "sign",
        "signal",
        "site",
        "soul",
        "span",
        "spot",
        "spring",
        "stage",
        "stand",
        "stick",
        "string",
        "stuff",
        "surface",
        "switch",
        "system",
        "tick",
        "top",
        "trump",
        "unit",
        "whole",
        "wind",
        "work",
        "works",
    ]
)
# Colour words that are also things: before another word they describe it ("an orange
# spacesuit"), at the end of a phrase they may be the thing ("an orange").
COLOUR_NOUNS = frozenset(
    [
        "amber",
        "chocolate",
        "coral",
        "cream",
        "ivory",
        "lemon",
        "lime",
        "olive",
        "orange",
        "peach",
        "plum",
        "salmon",
        "wine",
    ]
)
# A segment keeps its likeliest classes until they hold this much of its belief (a few dozen at
# most): the tail adds nothing a query could find, and the catalog stores every segment's.
BELIEF_MASS = 0.95
MAX_BELIEFS = 32
MIN_BELIEF = 0.005
MAX_PHRASE_WORDS = 3  # "grand piano", "bow tie", "four-poster bed"
_WORD = re.compile(r"[a-z][a-z'-]*")
_PUNCTUATION = re.compile(r"[,;:.!?()/]+")


@dataclass(frozen=True)
class Concept:
    """A phrase of the query and the classes it covers."""

    phrase: str
    classes: frozenset[int]  # class indices under the nodes the phrase names


@dataclass(frozen=True)
class Vocabulary:
    classes_of: Mapping[str, np.ndarray]  # word or phrase -> class indices (sorted, unique)
    plurals: Mapping[str, str]  # irregular plural -> singular

    def lookup(self, phrase: str) -> np.ndarray | None:
        """The classes a phrase names, trying its singular forms too."""
        head, _, last = phrase.rpartition(" ")
        for form in _singulars(last, self.plurals):
            found = self.classes_of.get(f"{head} {form}" if head else form)
            if found is not None:
                return found
        return None


def _singulars(word: str, plurals: Mapping[str, str]) -> list[str]:
    """The word, then what it may be the plural of: regular endings first, then WordNet's
    irregular plurals ("syringes" is a syringe before it is a syrinx)."""
    out = [word]
    for suffix, replacement in (("ies", "y"), ("ses", "s"), ("xes", "x"), ("ches", "ch")):
        if word.endswith(suffix) and len(word) > len(suffix) + 1:
            out.append(word[: -len(suffix)] + replacement)
    if word.endswith("es") and len(word) > 4:
        out.append(word[:-2])
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        out.append(word[:-1])
    if word in plurals:
        out.append(plurals[word])
    return out


@lru_cache(maxsize=1)
def load_vocabulary() -> Vocabulary:
    raw = json.loads(
        (resources.files("videobert") / "data" / "imagenet_hierarchy.json").read_text("utf-8")
    )
    hierarchy = load_hierarchy()
    words_of: dict[str, list[int]] = {}
    for i, node in enumerate(raw["nodes"].values()):
        # A node over half the classes ("an object", "a whole") matches anything alike. Nodes
        # too general to be a tag ("food", "a container") are still fine things to search for.
        if hierarchy.bits[i] < MIN_BITS:
            continue
        for word in node["words"]:
            if word not in NOT_OBJECTS:
                words_of.setdefault(word, []).append(i)
    classes_of = {
        word: np.flatnonzero(hierarchy.under[nodes].max(axis=0)) for word, nodes in words_of.items()
    }
    return Vocabulary(classes_of=classes_of, plurals=dict(raw["plurals"]))


def query_concepts(text: str, vocabulary: Vocabulary | None = None) -> list[Concept]:
    """The concepts a query names, longest phrases first, each word used once."""
    vocab = vocabulary or load_vocabulary()
    # Punctuation ends a phrase: "lemon, lime" names two things, "lemon cake" one.
    words: list[str] = []
    ends: set[int] = set()
    for chunk in _PUNCTUATION.split(text.casefold().replace("_", " ")):
        words += [w.removesuffix("'s").strip("'-") for w in _WORD.findall(chunk)]
        ends.add(len(words) - 1)
    used: set[int] = set()
    found: list[tuple[int, Concept]] = []
    for n in range(MAX_PHRASE_WORDS, 0, -1):
        for start in range(len(words) - n + 1):
            span = range(start, start + n)
            if used.intersection(span) or ends.intersection(range(start, start + n - 1)):
                continue
            if n == 1 and words[start] in COLOUR_NOUNS and _describes_next(words, start, ends):
                continue
            phrase = " ".join(words[start : start + n])
            classes = vocab.lookup(phrase)
            if classes is not None:
                used.update(span)
                found.append((start, Concept(phrase, frozenset(int(c) for c in classes))))
    return [c for _, c in sorted(found, key=lambda sc: sc[0])]


def _describes_next(words: Sequence[str], i: int, ends: set[int]) -> bool:
    """Whether word i stands before another word of its phrase, as an adjective does."""
    return i not in ends and i + 1 < len(words) and words[i + 1] not in STOPWORDS


def concept_belief(concepts: Sequence[Concept], beliefs: Mapping[int, float]) -> float:
    """How likely a segment shows what the query names: its strongest concept's belief, the sum
    of the segment's class probabilities (``beliefs``, class index -> probability) under it."""
    best = 0.0
    for concept in concepts:
        # A segment keeps a few dozen beliefs; a concept may cover hundreds of classes.
        total = sum(p for c, p in beliefs.items() if c in concept.classes)
        best = max(best, total)
    return min(1.0, best)


def sparse_beliefs(probs: np.ndarray) -> dict[int, float]:
    """A segment's class probabilities (1000,) reduced to its likeliest classes: best first,
    until BELIEF_MASS of its belief is kept, at most MAX_BELIEFS, none under MIN_BELIEF."""
    probs = np.asarray(probs, np.float32)
    order = np.argsort(-probs, kind="stable")
    out: dict[int, float] = {}
    kept = 0.0
    for c in order[:MAX_BELIEFS]:
        p = float(probs[c])
        if p < MIN_BELIEF or kept >= BELIEF_MASS:
            break
        out[int(c)] = round(p, 4)
        kept += p
    return out
