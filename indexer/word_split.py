"""Words the OCR ran together, apart again: the recognizer that ships (PP-OCRv4's) has no space in
its alphabet, so a sign's "FISH MARKET" comes out "FISHMARKET", which neither a person nor the
lexical signal can read. A run of letters that is no word is split into the likeliest words of
an English vocabulary (the shipped MiniLM's, whose whole words are in roughly the order of their
frequency, so a word's cost is the log of its rank, as in Zipf's law)."""

from __future__ import annotations

import math
import re
from functools import lru_cache

MIN_JOINED = 6  # shorter runs are left alone: "OPEN", "STOP", "EXIT" are read as they are
MIN_PART = 2  # every part is a word of at least two letters ("a" and "i" excepted)
SINGLE = {"a", "i"}
# A split is believed when its words are common on average (mean log rank at most this, a rank
# of about 8,100): "FISH MARKET" 8.2, "OPEN SUNDAYS" 8.7, "AT ALL TIMES" 7.7 pass, and a word the
# vocabulary lacks stays whole rather than become rare words ("plankton" is not "plank ton",
# 9.7).
MAX_MEAN_COST = 9.0
_RUN = re.compile(r"[A-Za-z]+")


@lru_cache(maxsize=1)
def word_costs() -> dict[str, float]:
    from videobert.locations import default_text_model_path

    vocab = (default_text_model_path() / "vocab.txt").read_text(encoding="utf-8").splitlines()
    costs: dict[str, float] = {}
    for rank, word in enumerate(vocab, start=1):
        plain = word.isascii() and word.isalpha() and word.islower()
        if plain and word not in costs and (len(word) >= MIN_PART or word in SINGLE):
            costs[word] = math.log(rank)
    return costs


def split_run(run: str, costs: dict[str, float] | None = None) -> list[str]:
    """``run`` as the likeliest sequence of known words, keeping its letters' case; the run
    itself when it is a word, is short, or cannot be made of words alone."""
    costs = word_costs() if costs is None else costs
    lowered = run.lower()
    if len(run) < MIN_JOINED or lowered in costs:
        return [run]
    n = len(lowered)
    best: list[tuple[float, int]] = [(0.0, 0)] + [(math.inf, 0)] * n  # (cost, start of last word)
    for end in range(1, n + 1):
        for start in range(max(0, end - 20), end):
            cost = costs.get(lowered[start:end])
            if cost is not None and best[start][0] + cost < best[end][0]:
                best[end] = (best[start][0] + cost, start)
    if math.isinf(best[n][0]):
        return [run]
    parts: list[str] = []
    end = n
    while end > 0:
        start = best[end][1]
        parts.append(run[start:end])
        end = start
    if best[n][0] / len(parts) > MAX_MEAN_COST:
        return [run]
    return parts[::-1]


def split_joined(line: str) -> str:
    """A read line with its run-together words apart: "ATALLTIMES" -> "AT ALL TIMES"."""
    return _RUN.sub(lambda m: " ".join(split_run(m.group(0))), line)
