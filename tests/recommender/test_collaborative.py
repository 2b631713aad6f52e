"""recommender.collaborative: item-item co-watching, its shrinkage, and the scores it gives a user."""

import numpy as np
import pytest

from recommender.collaborative import CoWatchWeights, best_co_watched, co_watch_scores, item_item

INDEX = {v: i for i, v in enumerate("abcde")}
LOOSE = CoWatchWeights(min_users=1, shrink=0.0, neighbours=10)


def test_videos_watched_by_the_same_people_are_similar_and_no_video_is_its_own_neighbour():
    pairs = [(1, "a"), (1, "b"), (2, "a"), (2, "b"), (3, "c"), (3, "d")]
    sim = item_item(pairs, INDEX, LOOSE).toarray()
    assert sim[0, 1] == pytest.approx(1.0) and sim[2, 3] == pytest.approx(1.0)
    assert sim[0, 2] == 0 and np.all(np.diag(sim) == 0)
    assert np.allclose(sim, sim.T)


def test_a_pair_shared_by_few_people_is_shrunk_toward_zero():
    one = item_item([(1, "a"), (1, "b")], INDEX, CoWatchWeights(min_users=1, shrink=3.0))
    many = item_item(
        [(u, v) for u in range(4) for v in "ab"], INDEX, CoWatchWeights(min_users=1, shrink=3.0)
    )
    # Both pairs have cosine 1; one shared viewer says 1/(1+3), four say 4/(4+3).
    assert one[0, 1] == pytest.approx(0.25)
    assert many[0, 1] == pytest.approx(4 / 7)


def test_too_few_people_means_no_co_watch_signal_yet():
    pairs = [(1, "a"), (1, "b"), (2, "a"), (2, "b")]
    sim = item_item(pairs, INDEX, CoWatchWeights(min_users=3))
    assert sim.shape == (5, 5) and sim.nnz == 0
    assert item_item([], INDEX, LOOSE).nnz == 0
    assert item_item([], {}, LOOSE).shape == (0, 0)


def test_watching_twice_is_one_vote_and_unknown_videos_are_ignored():
    pairs = [(1, "a"), (1, "a"), (1, "b"), (2, "b"), (2, "zzz")]
    sim = item_item(pairs, INDEX, LOOSE).toarray()
    assert sim[0, 1] == pytest.approx(1 / np.sqrt(2))


def test_each_video_keeps_only_its_closest_neighbours():
    pairs = [(u, "a") for u in range(6)] + [(u, "b") for u in range(5)] + [(0, "c")]
    sim = item_item(pairs, INDEX, CoWatchWeights(min_users=1, shrink=0.0, neighbours=1))
    assert sim[0].nnz == 1 and sim[0, 1] > 0 and sim[0, 2] == 0


def test_a_user_scores_videos_by_their_similarity_to_what_they_engaged_with():
    pairs = [(1, "a"), (1, "b"), (2, "a"), (2, "b"), (3, "a"), (3, "c")]
    sim = item_item(pairs, INDEX, LOOSE)
    scores = co_watch_scores(sim, np.array([0]), np.ones(1))
    assert scores[1] > scores[2] > 0 and scores[3] == 0 and scores[4] == 0
    assert co_watch_scores(sim, np.array([], dtype=int), np.zeros(0)).tolist() == [0] * 5


def test_the_positive_whose_audience_overlaps_most_explains_a_candidate():
    pairs = [(1, "a"), (1, "c"), (2, "a"), (2, "c"), (3, "b"), (3, "d")]
    sim = item_item(pairs, INDEX, LOOSE)
    best = best_co_watched(sim, np.array([2, 3, 4]), np.array([0, 1]), np.ones(2))
    assert best.tolist() == [0, 1, -1]
    assert best_co_watched(sim, np.array([2]), np.array([], dtype=int), np.zeros(0)).tolist() == [
        -1
    ]
