"""How frames look: pixel shares for dark, black and white, colourful and the basic colours."""

from __future__ import annotations

import numpy as np
import pytest

from core.looks import LOOKS, frame_looks, looks_from_text, looks_to_text, mean_looks


def frame(rgb: tuple[int, int, int], h: int = 8, w: int = 8) -> np.ndarray:
    return np.full((h, w, 3), rgb, np.uint8)


@pytest.mark.parametrize(
    ("rgb", "look"),
    [
        ((230, 30, 30), "red"),
        ((250, 140, 20), "orange"),
        ((230, 220, 30), "yellow"),
        ((30, 200, 40), "green"),
        ((30, 60, 220), "blue"),
        ((140, 30, 200), "purple"),
        ((240, 60, 170), "pink"),
    ],
)
def test_a_plain_colour_is_that_colour_and_no_other(rgb, look):
    looks = frame_looks(frame(rgb))
    assert looks[look] == 1.0 and looks["colourful"] == 1.0
    assert all(
        looks[k] == 0.0
        for k in ("red", "orange", "yellow", "green", "blue", "purple", "pink")
        if k != look
    )


def test_night_and_black_and_white_frames():
    night = frame_looks(frame((10, 12, 30)))
    assert night["dark"] == 1.0 and night["colourful"] == 0.0
    grey = np.repeat(np.linspace(0, 255, 64, dtype=np.uint8).reshape(8, 8, 1), 3, axis=2)
    photo = frame_looks(grey)
    assert photo["grey"] == 1.0 and photo["colourful"] == 0.0
    assert 0 < photo["dark"] < 0.5 and photo["white"] > 0


def test_shares_follow_the_area_a_look_covers():
    half = frame((30, 60, 220))
    half[:4] = (235, 235, 235)
    looks = frame_looks(half)
    assert looks["blue"] == pytest.approx(0.5) and looks["white"] == pytest.approx(0.5)


def test_a_segment_is_the_mean_of_its_frames_and_survives_the_catalog():
    red, blue = frame_looks(frame((230, 30, 30))), frame_looks(frame((30, 60, 220)))
    seg = mean_looks([red, blue])
    assert set(seg) == set(LOOKS) and seg["red"] == seg["blue"] == 0.5
    assert looks_from_text(looks_to_text(seg)) == seg
    assert mean_looks([]) == {}
    for bad in (None, "", "[]", "{not json", '{"dark": "x"}'):
        assert looks_from_text(bad) == {}


def test_a_frame_without_three_channels_is_refused():
    with pytest.raises(ValueError, match="shape"):
        frame_looks(np.zeros((4, 4), np.uint8))
