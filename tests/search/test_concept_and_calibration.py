"""The concept signal's arithmetic over candidates, and what each model's calibration keeps: its
signals' floors (with defaults for signals added since) and its cut-off."""

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


def test_the_cut_off_is_kept_with_the_model_and_a_setting_overrides_it(tmp_path):
    from types import SimpleNamespace

    from core.settings import Settings
    from model_lifecycle.calibration import ZERO_SHOT_THRESHOLD, threshold_for
    from search.service import SearchService

    assert threshold_for(tmp_path, "zero-shot") == ZERO_SHOT_THRESHOLD  # nothing recorded
    save_calibration(tmp_path, "trained", ZERO_SHOT, threshold=0.3)
    assert threshold_for(tmp_path, "trained") == 0.3
    # A calibration recorded before cut-offs were kept with it gets the zero-shot one.
    body = json.loads(_path(tmp_path, "trained").read_text())
    del body["threshold"]
    _path(tmp_path, "trained").write_text(json.dumps(body))
    assert threshold_for(tmp_path, "trained") == ZERO_SHOT_THRESHOLD
    save_calibration(tmp_path, "trained", ZERO_SHOT, threshold=0.3)

    embedder = SimpleNamespace(name="trained")
    service = SearchService(Settings(home=tmp_path), embedder)  # type: ignore[arg-type]
    assert service.current_threshold() == 0.3
    embedder.name = "zero-shot"  # the active model changed: its own cut-off
    assert service.current_threshold() == ZERO_SHOT_THRESHOLD
    pinned = SearchService(Settings(home=tmp_path, relevance_threshold=0.7), embedder)  # type: ignore[arg-type]
    assert pinned.current_threshold() == 0.7
    with pytest.raises(ValueError, match="calibrates"):
        _path(tmp_path, "other").write_text(json.dumps(body))
        threshold_for(tmp_path, "other")
