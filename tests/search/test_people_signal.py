"""Queries that ask for people, faces or someone talking, candidates scored by what the
detectors counted, and the words moments and summaries say of them."""

from __future__ import annotations

import pytest

from core.people import people_from_text, people_to_text
from core.vectors import Hit
from search import describe
from search.people import people_hits, people_score, people_words, query_people


@pytest.mark.parametrize(
    ("query", "wanted"),
    [
        ("people walking", ["people"]),
        ("a crowd in a square", ["crowd"]),
        ("a face", ["face"]),
        ("a close-up of a woman", ["closeup", "person"]),
        ("a portrait", ["closeup"]),
        ("someone talking to the camera", ["person", "talking"]),
        ("a cat sleeping on a sofa", []),
        ("a surface of the moon", []),  # "face" inside another word is not a face
    ],
)
def test_the_people_a_query_asks_for(query, wanted):
    assert query_people(query) == wanted


def seen(people=0, faces=0, largest_face=0.0, speech=False):
    return {
        "people": {"people": people, "faces": faces, "largest_face": largest_face},
        "has_speech": speech,
    }


def test_a_segment_scores_how_fully_it_shows_what_is_asked():
    assert people_score(["person"], seen(people=1)) == 1.0
    assert people_score(["people"], seen(people=1)) == 0.0  # one is not people
    assert people_score(["people"], seen(people=3)) == 1.0
    assert people_score(["crowd"], seen(people=3)) == pytest.approx(0.5)
    assert people_score(["crowd"], seen(people=9)) == 1.0
    assert people_score(["face"], seen(faces=1, largest_face=0.06)) == pytest.approx(0.5)
    assert people_score(["closeup"], seen(faces=1, largest_face=0.7)) == 1.0
    assert people_score(["closeup"], seen(people=2)) == 0.0  # bodies, no face
    # Talking is a face while speech is heard; a voice over nobody is not someone talking.
    assert people_score(["talking"], seen(faces=1, largest_face=0.3, speech=True)) == 1.0
    assert people_score(["talking"], seen(faces=1, largest_face=0.3)) == 0.0
    assert people_score(["talking"], seen(speech=True)) == 0.0
    assert people_score(["person", "talking"], seen(people=1, speech=True)) == pytest.approx(0.75)
    assert people_score(["person"], {"has_speech": True}) == 0.0  # never looked for


def test_candidates_are_scored_once_and_only_those_showing_people():
    street = Hit("s", 0.1, seen(people=5))
    empty = Hit("e", 0.9, seen())
    old = Hit("o", 0.5, {})
    found = people_hits(["people"], [[street, empty], [street, old]])
    assert [(h.id, h.score) for h in found] == [("s", 1.0)]
    assert people_hits([], [[street]]) == []


def test_the_stored_form_reads_back_and_a_bad_one_reads_as_nothing():
    stored = people_to_text({"people": 2, "faces": 1, "largest_face": 0.25})
    assert people_from_text(stored) == {"people": 2.0, "faces": 1.0, "largest_face": 0.25}
    assert people_from_text(None) == {} and people_from_text("{not json") == {}


def test_descriptions_count_people_only_as_far_as_the_detector_is_sure():
    assert people_words({"people": 1, "faces": 0, "largest_face": 0}) == ["a person"]
    assert people_words({"people": 0, "faces": 2, "largest_face": 0.1}) == ["a few people"]
    assert people_words({"people": 5, "faces": 0, "largest_face": 0}) == ["a few people"]
    assert people_words({"people": 8, "faces": 0, "largest_face": 0}) == ["a group of people"]
    assert people_words({"people": 1, "faces": 1, "largest_face": 0.6}) == [
        "a person",
        "a face in close-up",
    ]
    assert people_words({"people": 0, "faces": 0, "largest_face": 0}) == []
    assert people_words(None) == []


def test_a_silent_stretch_says_who_is_seen_and_what_is_written():
    two = {"people": 2, "faces": 0, "largest_face": 0}
    assert (
        describe.sentence("tram", {"dark": 0.9}, two, ["STOP"])
        == "A few people; shows tram; dark. On screen: “STOP”."
    )
    assert describe.sentence("", {}, None, ["OPEN 24 HOURS"]) == "On screen: “OPEN 24 HOURS”."
    assert describe.sentence("", {}, None, []) == "Nothing the picture model can name."
    # A moment's "[seen: ...]" must not be closed early by a bracket read on screen.
    assert describe.seen_text("", {}, None, ["[draft]"]) == "on screen: “(draft)”"
    long = describe.screen_words(["x" * 200])
    assert len(long) < 100 and long.endswith("…”")
