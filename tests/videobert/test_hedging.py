"""Hedged tags: as specific as the classifier is sure, never a class said on a hunch, never a tag
beside its own ancestor; the WordNet hierarchy they stand on is whole."""

from __future__ import annotations

import numpy as np
import pytest

from videobert.bridge import top_tags
from videobert.hedging import hedged_tags, load_hierarchy
from videobert.locations import imagenet_class_names

CATS = [281, 282, 283, 284, 285]  # tabby, tiger cat, Persian, Siamese, Egyptian cat
CARS = [436, 468, 511, 609, 627, 656, 661, 717, 751, 817]  # wagons, cabs, convertibles, ...


def _row(weights: dict[int, float]) -> np.ndarray:
    p = np.full(1000, 0.0, np.float32)
    for i, w in weights.items():
        p[i] = w
    rest = 1.0 - p.sum()
    p[p == 0] = rest / (p == 0).sum()  # the leftover belief spread thin over every other class
    return p


def test_the_hierarchy_holds_every_class_under_one_root():
    h = load_hierarchy()
    assert h.under.shape[1] == 1000 and h.under.shape[0] == len(h.names) > 1000
    root = int(np.argmax(h.under.sum(axis=1)))
    assert h.under[root].sum() == 1000 and h.bits[root] == 0 and not h.sayable[root]
    leaves = np.flatnonzero(h.under.sum(axis=1) == 1)
    assert len(leaves) >= 1000
    assert h.bits[leaves].min() == pytest.approx(np.log2(1000), abs=1e-4)
    names = imagenet_class_names()
    assert set(names) <= set(h.names), "every class keeps its own short name"


def test_belief_spread_over_kinds_of_cat_is_said_as_cat():
    probs = _row({i: 0.16 for i in CATS})
    assert hedged_tags(probs, limit=3, min_probability=0.4) == ["cat"]
    # The old tags named a breed the model gave 16 % to.
    assert top_tags(probs, imagenet_class_names(), limit=3, min_probability=0.08)[0] in {
        imagenet_class_names()[i] for i in CATS
    }


def test_a_sure_class_is_said_by_name_and_a_hunch_not_at_all():
    assert hedged_tags(_row({817: 0.9}), limit=3, min_probability=0.4) == ["sports car"]
    # Nothing reaches the confidence: no tag rather than a guess (the old top classes at 8 %
    # would have said three).
    flat = _row({})
    assert hedged_tags(flat, limit=3, min_probability=0.5) == []
    hunch = _row({1: 0.09, 500: 0.09, 900: 0.09})  # a fish, a building, a water tower
    assert len(top_tags(hunch, imagenet_class_names(), limit=3, min_probability=0.08)) == 3
    assert hedged_tags(hunch, limit=3, min_probability=0.5) == []


def test_two_things_in_one_picture_each_get_a_tag_and_no_tag_sits_above_another():
    weights = {i: 0.4 / len(CATS) for i in CATS} | {i: 0.5 / len(CARS) for i in CARS}
    tags = hedged_tags(_row(weights), limit=3, min_probability=0.3)
    assert "cat" in tags and len(tags) >= 2
    h = load_hierarchy()
    ids = {t: h.names.index(t) for t in tags}
    for a in ids.values():
        for b in ids.values():
            assert a == b or b not in h.ancestors[a], (tags, h.names[a], h.names[b])
    assert all(h.sayable[i] for i in ids.values())


def test_the_limit_and_the_confidence_are_kept():
    weights = {i: 0.4 / len(CATS) for i in CATS} | {i: 0.5 / len(CARS) for i in CARS}
    assert len(hedged_tags(_row(weights), limit=1, min_probability=0.3)) == 1
    assert hedged_tags(_row(weights), limit=0, min_probability=0.3) == []
    assert hedged_tags(_row(weights), limit=3, min_probability=0.95) == []
