"""Reading queries in the classifier's vocabulary: WordNet synonyms and hypernyms of the 1000
ImageNet classes (the shipped hierarchy; no weights needed)."""

from __future__ import annotations

import numpy as np
import pytest

from core.beliefs import beliefs_from_text, beliefs_to_text
from videobert.locations import imagenet_class_names
from videobert.vocabulary import (
    BELIEF_MASS,
    MAX_BELIEFS,
    MIN_BELIEF,
    concept_belief,
    query_concepts,
    sparse_beliefs,
)

NAMES = imagenet_class_names()


def cls(name: str) -> int:
    return NAMES.index(name)


def classes(query: str) -> list[set[int]]:
    return [set(concept.classes) for concept in query_concepts(query)]


def test_a_general_word_covers_the_classes_below_it():
    (dog,) = classes("a dog")
    assert cls("Pekingese") in dog and cls("Border Collie") in dog
    assert cls("tabby cat") not in dog
    (animal,) = classes("an animal")
    assert dog < animal  # every dog is an animal, and there is more to animals
    (food,) = classes("food")
    assert cls("espresso") in food or cls("orange") in food


def test_a_synonym_finds_its_class():
    assert classes("a taxi") == [{cls("taxicab")}]
    assert classes("a cab") == classes("a taxi")


def test_plurals_read_as_their_singular():
    assert classes("dogs") == classes("a dog")
    assert classes("wolves") == classes("a wolf")  # WordNet's irregular plurals
    assert classes("taxies") == classes("taxis") == classes("a taxi")


def test_the_longest_phrase_wins_and_uses_its_words_once():
    (piano,) = classes("a grand piano")
    assert piano == {cls("grand piano")}


def test_a_colour_before_a_word_describes_it():
    assert classes("an orange spacesuit") == []
    assert classes("an orange") == [{cls("orange")}]
    assert classes("lemon, orange") == [{cls("lemon")}, {cls("orange")}]


@pytest.mark.parametrize("query", ["an object", "a football match", "the surface of the moon"])
def test_words_too_general_or_meant_otherwise_name_nothing(query):
    assert classes(query) == []


def test_a_segment_believes_a_concept_as_much_as_its_classes_under_it():
    concepts = query_concepts("a dog or a cat")
    beliefs = {cls("Pekingese"): 0.3, cls("Border Collie"): 0.2, cls("tabby cat"): 0.4}
    assert concept_belief(concepts, beliefs) == pytest.approx(0.5)  # the dog: 0.3 + 0.2
    assert concept_belief(concepts, {cls("espresso"): 0.9}) == 0.0
    assert concept_belief([], beliefs) == 0.0


def test_sparse_beliefs_keep_the_likeliest_classes_only():
    probs = np.full(1000, 0.0001, np.float32)
    probs[[5, 7, 9]] = [0.6, 0.3, 0.004]
    kept = sparse_beliefs(probs)
    assert list(kept) == [5, 7]  # 9 is under MIN_BELIEF, the rest far under
    assert kept[5] == pytest.approx(0.6)
    flat = np.full(1000, MIN_BELIEF * 2, np.float32)
    assert len(sparse_beliefs(flat)) == MAX_BELIEFS
    peaked = np.zeros(1000, np.float32)
    peaked[:3] = [BELIEF_MASS + 0.01, 0.03, 0.01]
    assert list(sparse_beliefs(peaked)) == [0]  # the mass is reached by the first


def test_beliefs_survive_the_catalog_and_bad_text_is_no_belief():
    beliefs = {3: 0.5, 999: 0.0125}
    assert beliefs_from_text(beliefs_to_text(beliefs)) == beliefs
    for bad in (None, "", "not json", "[1, 2]", '{"x": 1}'):
        assert beliefs_from_text(bad) == {}
