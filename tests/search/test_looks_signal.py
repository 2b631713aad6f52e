"""Queries that ask how something looks, and candidates scored by it."""

from __future__ import annotations

import pytest

from core.vectors import Hit
from search.looks import looks_hits, looks_score, query_looks


@pytest.mark.parametrize(
    ("query", "looks"),
    [
        ("a city skyline at night", ["dark"]),
        ("a black and white photo of a man", ["grey"]),
        ("a red car", ["red"]),
        ("a blue diamond in a yellow square", ["blue", "yellow"]),
        ("colourful sweets", ["colourful"]),
        ("an orange spacesuit", ["orange"]),
        ("an orange", []),  # the fruit
        ("a cat sleeping next to a mug", []),
    ],
)
def test_the_looks_a_query_asks_for(query, looks):
    assert query_looks(query) == looks


def test_a_segment_scores_how_fully_it_shows_every_look_asked():
    assert looks_score(["dark"], {"dark": 0.9}) == 1.0  # past its full share
    assert looks_score(["dark"], {"dark": 0.3}) == pytest.approx(0.5)
    assert looks_score(["red", "blue"], {"red": 0.25, "blue": 0.0}) == pytest.approx(0.5)
    assert looks_score(["red"], {}) == 0.0  # a segment stored before looks were kept
    assert looks_score([], {"red": 1.0}) == 0.0


def test_candidates_are_scored_once_and_only_those_showing_the_look():
    night = Hit("n", 0.1, {"looks": {"dark": 0.8}})
    day = Hit("d", 0.9, {"looks": {"dark": 0.0}})
    old = Hit("o", 0.5, {})
    found = looks_hits(["dark"], [[night, day], [night, old]])
    assert [(h.id, h.score) for h in found] == [("n", 1.0)]
    assert looks_hits([], [[night]]) == []
