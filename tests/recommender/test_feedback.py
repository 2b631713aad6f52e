"""recommender.feedback: one signed, decayed weight per video from a user's events."""

from datetime import UTC, datetime, timedelta

import pytest

from core.users import EventRow
from recommender.feedback import FeedbackWeights, decay, video_feedback

NOW = datetime(2026, 12, 1, tzinfo=UTC)
W = FeedbackWeights()


def _events(*specs: tuple[str, str, float | None, float]) -> list[EventRow]:
    """(video, kind, position, days ago) in the order they happened."""
    return [
        EventRow(i, video, kind, position, NOW - timedelta(days=days))
        for i, (video, kind, position, days) in enumerate(specs, 1)
    ]


def test_no_events_is_no_feedback():
    assert video_feedback([], {}, NOW) == {}


def test_each_kind_of_evidence_has_its_sign_and_size():
    got = video_feedback(
        _events(
            ("liked", "liked", None, 0),
            ("done", "completed", None, 0),
            ("half", "progress", 50.0, 0),
            ("start", "started", 0.0, 0),
            ("skip", "skipped", 2.0, 0),
            ("hate", "disliked", None, 0),
        ),
        {"half": 100.0, "start": 100.0, "skip": 100.0},
        NOW,
    )
    assert {v: f.kind for v, f in got.items()} == {
        "liked": "liked",
        "done": "completed",
        "half": "progress",
        "start": "started",
        "skip": "skipped",
        "hate": "disliked",
    }
    weights = {v: f.weight for v, f in got.items()}
    assert weights["liked"] > weights["done"] > weights["half"] > weights["start"] > 0
    assert weights["hate"] < weights["skip"] < 0
    assert weights["half"] == pytest.approx(W.started + (W.completed - W.started) * 0.5 / 0.95)


def test_the_latest_verdict_wins_and_a_skip_counts_only_after_the_last_playback():
    got = video_feedback(
        _events(
            ("a", "liked", None, 3),
            ("a", "disliked", None, 2),  # changed their mind
            ("b", "skipped", None, 3),
            ("b", "started", 0.0, 2),
            ("b", "completed", None, 1),  # came back and finished it
            ("c", "completed", None, 3),
            ("c", "skipped", None, 1),  # skipped a rewatch
        ),
        {},
        NOW,
    )
    assert (got["a"].kind, got["b"].kind, got["c"].kind) == ("disliked", "completed", "skipped")


def test_progress_into_the_credits_counts_as_completed():
    got = video_feedback(_events(("a", "progress", 97.0, 0)), {"a": 100.0}, NOW)
    assert got["a"].kind == "completed" and got["a"].weight == pytest.approx(W.completed)


def test_older_evidence_counts_less_halving_every_half_life():
    got = video_feedback(
        _events(("old", "completed", None, W.half_life_days), ("new", "completed", None, 0)),
        {},
        NOW,
    )
    assert got["old"].weight == pytest.approx(got["new"].weight / 2)
    assert got["old"].at == NOW - timedelta(days=W.half_life_days)


def test_a_future_timestamp_counts_as_now():
    assert decay(-3600.0, 30.0) == 1.0
