"""The concept signal's arithmetic over candidates, and calibrations recorded before it existed."""

from __future__ import annotations

import json

import pytest

from core.vectors import Hit
from model_lifecycle.calibration import ZERO_SHOT, _path, calibration_for, save_calibration
from search.service import concept_hits
from videobert.locations import imagenet_class_names
from videobert.vocabulary import query_concepts

NAMES = imagenet_class_names()


def hit(pid: str, beliefs: dict[str, float] | None, score: float = 0.5) -> Hit:
    payload = {"video_id": pid, "index": 0}
    if beliefs is not None:
        payload["beliefs"] = beliefs
    return Hit(pid, score, payload)


def test_candidates_of_every_signal_are_scored_once_by_their_belief():
    dog, cat = str(NAMES.index("Pekingese")), str(NAMES.index("tabby cat"))
    video = [hit("a", {dog: 0.2, cat: 0.7}), hit("b", {dog: 0.9})]
    text = [hit("b", {dog: 0.9}), hit("c", {cat: 0.9}), hit("old", None)]
    found = concept_hits(query_concepts("a dog"), [video, text])
    assert [(h.id, h.score) for h in found] == [("b", 0.9), ("a", 0.2)]
    # A segment stored before beliefs were kept, or one that shows no dog, is not a hit.
    assert concept_hits([], [video, text]) == []


def test_a_calibration_recorded_before_the_concept_signal_gets_its_default(tmp_path):
    old = {k: v for k, v in ZERO_SHOT.items() if k != "concept"}
    save_calibration(tmp_path, "trained-model", old)
    assert "concept" not in json.loads(_path(tmp_path, "trained-model").read_text())["signals"]
    got = calibration_for(tmp_path, "trained-model")
    assert got["concept"] == ZERO_SHOT["concept"]
    assert got["video"] == pytest.approx(old["video"])
