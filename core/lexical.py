"""Sparse lexical vectors for keyword matching: hashed word counts (Qdrant applies IDF at query time)."""

from __future__ import annotations

import math
import re
import zlib
from collections import Counter
from dataclasses import dataclass

_WORD = re.compile(r"[^\W_]+", re.UNICODE)

# Words too common to say anything about a moment; IDF would shrink them anyway, but they
# also crowd short queries.
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "for",
        "from",
        "has",
        "have",
        "he",
        "her",
        "his",
        "i",
        "in",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "our",
        "she",
        "so",
        "that",
        "the",
        "their",
        "them",
        "there",
        "they",
        "this",
        "to",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "will",
        "with",
        "you",
        "your",
    ]
)


@dataclass(frozen=True)
class SparseVector:
    indices: list[int]
    values: list[float]

    def is_empty(self) -> bool:
        return not self.indices


def tokenize(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.casefold()) if w not in STOPWORDS]


def term_id(token: str) -> int:
    # crc32 is stable across processes and machines (unlike hash()), so ids match at query time.
    return zlib.crc32(token.encode("utf-8"))


# The labels a caption puts before what is seen and what is on screen (indexer/embed.py): not
# words of the segment, or "screen" would match every segment that shows any text.
_CAPTION_LABELS = re.compile(r"\[(?:seen|on screen):")


def caption_vector(caption: str) -> SparseVector:
    """A caption's sparse vector, its labels left out."""
    return sparse_vector(_CAPTION_LABELS.sub(" ", caption))


def sparse_vector(text: str) -> SparseVector:
    """Term ids with 1 + log(tf) weights; collisions merge their counts."""
    counts: Counter[int] = Counter(term_id(t) for t in tokenize(text))
    ids = sorted(counts)
    return SparseVector(indices=ids, values=[1.0 + math.log(counts[i]) for i in ids])
