"""recommender.rank: weights combine the signals, seen videos never appear, MMR picks the top."""

import numpy as np
import pytest

from recommender.rank import Components, RankWeights, combine, rank

N = 6
E = np.eye(N, dtype=np.float32)


def _components(**given: list[float]) -> Components:
    zeros = [0.0] * N
    return Components(
        **{
            k: np.array(given.get(k, zeros), np.float32)
            for k in ("content", "co_watch", "popularity", "recency")
        }
    )


def test_the_total_is_the_weighted_sum_of_the_signals():
    weights = RankWeights(content=1.0, co_watch=0.5, popularity=0.2, recency=0.1)
    total, parts = combine(
        _components(
            content=[1, 0, 0, 0, 0, 0],
            co_watch=[0, 1, 0, 0, 0, 0],
            popularity=[0, 0, 1, 0, 0, 0],
            recency=[0, 0, 0, 1, 0, 0],
        ),
        weights,
    )
    assert total.tolist() == pytest.approx([1.0, 0.5, 0.2, 0.1, 0, 0])
    assert parts.shape == (4, N)


def test_excluded_videos_never_appear_however_well_they_score():
    comps = _components(content=[0.9, 0.8, 0.7, 0.1, 0.0, 0.0])
    excluded = np.array([True, True, False, False, False, False])
    got = rank(comps, E, excluded, 10)
    assert [r.index for r in got][:2] == [2, 3]
    assert {r.index for r in got} == {2, 3, 4, 5}


def test_everything_excluded_or_a_zero_limit_gives_nothing():
    comps = _components(content=[1.0] * N)
    assert rank(comps, E, np.ones(N, bool), 5) == []
    assert rank(comps, E, np.zeros(N, bool), 0) == []


def test_results_carry_their_score_and_each_signals_contribution():
    comps = _components(content=[0.5, 0, 0, 0, 0, 0], popularity=[1.0, 0, 0, 0, 0, 0])
    top = rank(comps, E, np.zeros(N, bool), 1, RankWeights(popularity=0.2))[0]
    assert top.index == 0
    assert top.score == pytest.approx(0.7)
    assert top.contributions == pytest.approx(
        {"content": 0.5, "co-watch": 0.0, "popular": 0.2, "new": 0.0}
    )


def test_a_near_duplicate_of_the_first_result_gives_way_to_something_different():
    vectors = np.stack([E[0], E[0], E[1], E[2], E[3], E[4]])
    comps = _components(content=[1.0, 0.99, 0.8, 0.1, 0.0, 0.0])
    plain = rank(comps, vectors, np.zeros(N, bool), 2, RankWeights(mmr_trade_off=1.0))
    varied = rank(comps, vectors, np.zeros(N, bool), 2, RankWeights(mmr_trade_off=0.7))
    assert [r.index for r in plain] == [0, 1]
    assert [r.index for r in varied] == [0, 2]
