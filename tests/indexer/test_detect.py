"""The text and people stage of one segment: what the settings turn on runs, and a detector that
fails costs the segment that reading, never the video."""

from __future__ import annotations

import logging

import numpy as np

from core.settings import Settings
from indexer.detect import Seen, SegmentDetectors


def test_the_settings_decide_which_detectors_run(tmp_path):
    off = SegmentDetectors.from_settings(Settings(home=tmp_path, screen_text=False, people=False))
    assert not off.enabled
    assert off([np.zeros((240, 320, 3), np.uint8)]) == Seen(screen_text=None, people=None)
    seen = SegmentDetectors(screen_text=True, people=True)([np.zeros((240, 320, 3), np.uint8)])
    assert seen.screen_text == [] and seen.people == {"people": 0, "faces": 0, "largest_face": 0}


def test_a_detector_that_fails_leaves_the_segment_unread_and_says_why(caplog):
    broken = np.zeros((240, 320), np.uint8)  # no colour channels: both detectors refuse it
    with caplog.at_level(logging.WARNING, logger="indexer.detect"):
        seen = SegmentDetectors(screen_text=True, people=True)([broken])
    assert seen.screen_text is None and seen.people is None  # NULL: reindex tries again
    messages = " ".join(r.getMessage() for r in caplog.records)
    assert "on-screen text not read" in messages and "people not counted" in messages
