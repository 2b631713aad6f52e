"""recommender.content: centring, Rocchio scores, the positive that explains a candidate, the seam."""

import numpy as np
import pytest

from recommender.content import (
    MatrixSearch,
    best_match,
    content_scores,
    normalize_rows,
    weighted_mean,
)

E = np.eye(4, dtype=np.float32)  # four orthogonal "topics"
EMPTY = np.zeros((0, 4), np.float32)
NONE = np.zeros(0, np.float32)


def test_rows_become_unit_vectors_and_a_zero_row_stays_zero_not_nan():
    got = normalize_rows(np.array([[3.0, 4.0], [0.0, 0.0]]))
    assert np.allclose(got, [[0.6, 0.8], [0.0, 0.0]])
    assert normalize_rows(np.zeros((0, 3))).shape == (0, 3)


def test_weighted_mean_of_nothing_is_none():
    assert weighted_mean(EMPTY, NONE) is None
    assert weighted_mean(E[:1], np.zeros(1)) is None
    assert np.allclose(weighted_mean(E[:2], np.array([3.0, 1.0])), [0.75, 0.25, 0, 0])


def test_videos_like_the_positives_score_high_and_like_the_negatives_low():
    scores = content_scores(E, E[:1], np.ones(1), E[1:2], np.ones(1), negative_weight=0.5)
    assert scores.tolist() == pytest.approx([1.0, -0.5, 0.0, 0.0])


def test_positives_only_or_negatives_only_or_neither():
    only_pos = content_scores(E, E[:2], np.array([2.0, 1.0]), EMPTY, NONE, negative_weight=0.5)
    assert only_pos.tolist() == pytest.approx([2 / 3, 1 / 3, 0, 0])
    only_neg = content_scores(E, EMPTY, NONE, E[3:], np.ones(1), negative_weight=0.5)
    assert only_neg.tolist() == pytest.approx([0, 0, 0, -0.5])
    assert content_scores(E, EMPTY, NONE, EMPTY, NONE, negative_weight=0.5).tolist() == [0] * 4


def test_the_positive_that_pulls_a_candidate_up_most_explains_it():
    positives = np.stack([E[0], E[1]])
    candidates = np.stack([0.9 * E[0] + 0.1 * E[1], 0.2 * E[0] + 0.8 * E[1]])
    assert best_match(candidates, positives, np.ones(2)).tolist() == [0, 1]
    # A much stronger (recent, liked) positive can outweigh a closer one.
    assert best_match(candidates, positives, np.array([1.0, 10.0])).tolist() == [1, 1]
    assert best_match(candidates, EMPTY, NONE).tolist() == [-1, -1]


def test_the_matrix_search_answers_the_seam_with_the_best_videos_by_id():
    search = MatrixSearch(E, ["a", "b", "c", "d"], negative_weight=0.5)
    got = search(E[:1], np.ones(1), E[1:2], np.ones(1), 2)
    assert set(got) == {"a", "c"} or set(got) == {"a", "d"}
    assert got["a"] == pytest.approx(1.0)
    assert search(EMPTY, NONE, EMPTY, NONE, 2) == {}
    assert MatrixSearch(EMPTY, [], negative_weight=0.5)(E[:1], np.ones(1), EMPTY, NONE, 2) == {}
    assert len(search(E[:1], np.ones(1), EMPTY, NONE, 10)) == 4
