"""recommender.popularity, .diversify and .reasons: the small pieces around the ranking."""

import numpy as np
import pytest

from recommender.diversify import mmr
from recommender.feedback import SECONDS_PER_DAY
from recommender.popularity import popularity_scores, recency_scores
from recommender.reasons import ReasonKind, dominant, reason_text


def test_popularity_is_log_scaled_so_the_most_watched_scores_one():
    scores = popularity_scores(np.array([0, 1, 3, 15]))
    assert scores.tolist() == pytest.approx([0, np.log(2) / np.log(16), 0.5, 1.0])
    assert popularity_scores(np.zeros(3)).tolist() == [0, 0, 0]
    assert popularity_scores(np.zeros(0)).tolist() == []


def test_recency_halves_every_half_life_and_stops_at_the_window():
    days = np.array([0, 7, 14, 31, -2]) * SECONDS_PER_DAY
    scores = recency_scores(days, half_life_days=7, within_days=30)
    assert scores.tolist() == pytest.approx([1.0, 0.5, 0.25, 0.0, 1.0])


def test_mmr_with_full_trade_off_is_plain_ranking():
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(6, 4))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    rel = np.array([0.1, 0.9, 0.5, 0.7, 0.3, 0.2])
    assert mmr(rel, vectors, 4, trade_off=1.0) == [1, 3, 2, 4]


def test_mmr_passes_over_a_near_duplicate_of_what_it_already_chose():
    e = np.eye(3)
    vectors = np.stack([e[0], e[0], e[1]])  # 0 and 1 are the same video, twice
    rel = np.array([1.0, 0.95, 0.8])
    assert mmr(rel, vectors, 2, trade_off=1.0) == [0, 1]
    assert mmr(rel, vectors, 2, trade_off=0.7) == [0, 2]


def test_mmr_of_nothing_or_of_equal_relevance():
    assert mmr(np.zeros(0), np.zeros((0, 3)), 5, trade_off=0.8) == []
    assert mmr(np.ones(2), np.eye(2), 0, trade_off=0.8) == []
    assert sorted(mmr(np.ones(3), np.eye(3), 5, trade_off=0.8)) == [0, 1, 2]


def test_the_largest_positive_contribution_gives_the_reason():
    assert dominant({"content": 0.3, "co-watch": 0.5, "popular": 0.1}) == ReasonKind.CO_WATCH
    assert dominant({"content": 0.2, "popular": 0.2}) == ReasonKind.CONTENT  # ties: personal first
    assert dominant({"content": -0.4, "new": 0.01}) == ReasonKind.NEW
    assert dominant({"content": -0.4}) == ReasonKind.LIBRARY
    assert dominant({}) == ReasonKind.LIBRARY


def test_reasons_read_as_sentences_and_never_name_a_missing_title():
    assert reason_text("content", title="Pasta night") == "because you watched Pasta night"
    assert (
        reason_text("content", title="Pasta night", liked=True) == "because you liked Pasta night"
    )
    assert reason_text("co-watch", title="Knife skills") == (
        "people who watched Knife skills also watched this"
    )
    assert reason_text("popular") == "popular in your library"
    assert reason_text("new") == "new"
    assert reason_text("content") == reason_text("co-watch") == "in your library"


def test_mmr_gains_never_rise_down_the_list():
    from recommender.diversify import mmr_with_gains

    rng = np.random.default_rng(3)
    for _ in range(20):
        vectors = rng.normal(size=(30, 8))
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        order, gains = mmr_with_gains(rng.random(30), vectors, 12, trade_off=0.7)
        assert len(order) == len(gains) == 12
        assert all(a >= b - 1e-12 for a, b in zip(gains, gains[1:], strict=False)), gains


def test_a_near_tie_goes_to_the_newest_and_a_clear_lead_keeps_its_reason():
    from recommender.reasons import newest_near_best

    # Two positives (rows) explaining three candidates (columns).
    pull = np.array([[1.5, 1.5, 0.2], [1.0, 0.9, 0.9]])
    times = np.array([100.0, 200.0])  # the second positive is the newer
    assert newest_near_best(pull, None).tolist() == [0, 0, 1]
    # 1.0 is two thirds of 1.5: near enough, so the newer names it; 0.9 is not.
    assert newest_near_best(pull, times).tolist() == [1, 0, 1]
    assert newest_near_best(pull[:1], times[:1]).tolist() == [0, 0, 0]
