"""The visual tokenizer: hierarchical k-means fit, assignment, scarce data, persistence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from videobert.kmeans import Codebook, fit_codebook, imagenet_codebook


def clustered(k: int, depth: int, per_leaf: int, dim: int = 16, seed: int = 0) -> np.ndarray:
    """Points around k ** depth leaf centres laid out as a tree: each level's spread is a tenth
    of the one above, so the true hierarchy is unambiguous."""
    rng = np.random.default_rng(seed)
    centres = np.zeros((1, dim))
    scale = 100.0
    for _ in range(depth):
        offsets = rng.normal(size=(len(centres), k, dim)) * scale
        centres = (centres[:, None, :] + offsets).reshape(-1, dim)
        scale /= 10.0
    points = centres[:, None, :] + rng.normal(size=(len(centres), per_leaf, dim)) * scale
    return points.reshape(-1, dim).astype(np.float32)


def test_enough_data_makes_k_to_the_depth_words_one_per_true_cluster() -> None:
    x = clustered(k=3, depth=2, per_leaf=12)
    codebook = fit_codebook(x, k=3, depth=2, seed=0)
    assert codebook.num_words == 3**2
    assert codebook.centroids.shape == (9, 16)
    words = codebook.assign(x).reshape(9, 12)
    # every true leaf cluster lands on exactly one word, and no two clusters share one
    assert all(len(set(row)) == 1 for row in words)
    assert len({row[0] for row in words}) == 9


def test_scarce_data_makes_fewer_words_and_says_so_in_the_tree() -> None:
    x = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    codebook = fit_codebook(x, k=3, depth=3, seed=0)
    # 5 points cannot fill 27 words: at most one word per distinct point
    assert 1 < codebook.num_words <= 5
    assert sorted(codebook.assign(x, exact=True)) == sorted(codebook.assign(x))

    one = fit_codebook(np.ones((4, 4), np.float32), k=3, depth=2)
    assert one.num_words == 1  # a single distinct value is never split
    assert (one.assign(np.zeros((2, 4), np.float32)) == 0).all()

    duplicates = np.repeat(np.eye(2, 4, dtype=np.float32), 10, axis=0)  # 2 distinct values
    assert fit_codebook(duplicates, k=12, depth=2).num_words == 2
    # the same with feature-sized vectors, where |x|^2 - 2xc + |c|^2 has round-off of its own
    # (seeding by it made 14-21 words of these 5 values)
    rng = np.random.default_rng(0)
    wide = np.repeat((rng.normal(size=(5, 1280)) * 20).astype(np.float32), 10, axis=0)
    assert fit_codebook(rng.permutation(wide), k=12, depth=2).num_words == 5


def test_fit_and_assignment_are_deterministic_for_a_seed() -> None:
    x = np.random.default_rng(3).normal(size=(400, 8)).astype(np.float32)
    a = fit_codebook(x, k=4, depth=2, seed=7)
    b = fit_codebook(x, k=4, depth=2, seed=7)
    np.testing.assert_array_equal(a.node_centroids, b.node_centroids)
    np.testing.assert_array_equal(a.child_index, b.child_index)
    np.testing.assert_array_equal(a.assign(x), b.assign(x))
    # A point's word does not depend on which other points are assigned with it.
    order = np.random.default_rng(4).permutation(len(x))
    np.testing.assert_array_equal(a.assign(x[order]), a.assign(x)[order])


def test_unseen_features_descend_to_the_nearest_word_on_clustered_data() -> None:
    seen = clustered(k=4, depth=2, per_leaf=10, seed=1)
    codebook = fit_codebook(seen, k=4, depth=2)
    # new points around the same leaves, as far from them as the training points were
    unseen = seen[::3] + np.random.default_rng(9).normal(size=seen[::3].shape).astype(np.float32)
    np.testing.assert_array_equal(codebook.assign(unseen), codebook.assign(unseen, exact=True))


def test_tree_descent_approximates_the_nearest_word_on_unstructured_data() -> None:
    # With no real hierarchy, greedy descent can pick a sibling of the nearest leaf; it stays
    # close to it (measured: mean distance within a few per cent of the nearest).
    rng = np.random.default_rng(1)
    codebook = fit_codebook(rng.normal(size=(2000, 8)).astype(np.float32), k=4, depth=2)
    unseen = rng.normal(size=(1000, 8)).astype(np.float32)
    c = codebook.centroids
    tree = ((unseen - c[codebook.assign(unseen)]) ** 2).sum(1)
    exact = ((unseen - c[codebook.assign(unseen, exact=True)]) ** 2).sum(1)
    assert (tree >= exact - 1e-4).all()
    assert tree.mean() / exact.mean() < 1.1


def test_codebook_round_trips_through_npz(tmp_path: Path) -> None:
    x = np.random.default_rng(2).normal(size=(300, 8)).astype(np.float32)
    codebook = fit_codebook(x, k=3, depth=2, seed=5)
    path = tmp_path / "codebook.npz"
    codebook.save(path)
    loaded = Codebook.load(path)
    assert (loaded.k, loaded.depth, loaded.seed, loaded.names) == (3, 2, 5, None)
    np.testing.assert_array_equal(loaded.centroids, codebook.centroids)
    np.testing.assert_array_equal(loaded.assign(x), codebook.assign(x))


def test_imagenet_codebook_gives_every_class_a_word_with_its_name(tmp_path: Path) -> None:
    weight = np.random.default_rng(0).normal(size=(1000, 1280)).astype(np.float32)
    names = [f"class {i}" for i in range(1000)]
    codebook = imagenet_codebook(weight, names)
    assert codebook.num_words == 1000 and codebook.names == tuple(names)
    np.testing.assert_array_equal(codebook.centroids, weight)
    np.testing.assert_array_equal(codebook.assign(weight), np.arange(1000))
    codebook.save(tmp_path / "imagenet.npz")
    assert Codebook.load(tmp_path / "imagenet.npz").names == tuple(names)


def test_bad_features_are_refused_with_the_offending_shape() -> None:
    with pytest.raises(ValueError, match=r"\(5,\)"):
        fit_codebook(np.zeros(5, np.float32), k=2, depth=1)
    with pytest.raises(ValueError, match="non-finite"):
        fit_codebook(np.array([[0.0, np.nan]], np.float32), k=2, depth=1)
    codebook = fit_codebook(np.eye(4, dtype=np.float32), k=2, depth=1)
    with pytest.raises(ValueError, match=r"\(3, 5\)"):
        codebook.assign(np.zeros((3, 5), np.float32))
    with pytest.raises(ValueError, match="3 class names"):
        imagenet_codebook(np.zeros((4, 8), np.float32), ["a", "b", "c"])
