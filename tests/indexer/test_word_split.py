"""Words the shipped OCR runs together, apart again, with the shipped MiniLM vocabulary."""

from __future__ import annotations

import pytest

from indexer.word_split import split_joined


@pytest.mark.parametrize(
    ("read", "meant"),
    [
        ("FISHMARKET", "FISH MARKET"),
        ("ATALLTIMES", "AT ALL TIMES"),  # the street sign of the issue that asked for OCR
        ("WarehouseSafetyTraining", "Warehouse Safety Training"),  # case kept
        ("NOTICE", "NOTICE"),  # a word stays a word
        ("PARKING PROHIBITED", "PARKING PROHIBITED"),
        ("plankton", "plankton"),  # unknown to the vocabulary: not made into "plank ton"
        ("KX19RDA", "KX19RDA"),  # a number plate is no words
        ("OPEN", "OPEN"),
    ],
)
def test_run_together_words_are_split_and_words_are_left_alone(read, meant):
    assert split_joined(read) == meant
