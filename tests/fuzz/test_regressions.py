"""Inputs the fuzz targets found that once broke something: each stays a test."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer import media
from tests.fuzz import targets


@pytest.mark.parametrize(
    "packet, text",
    [
        # Found by test_subtitle_packets_of_any_text_give_one_line: an ASS "Dialogue:" line with
        # fewer than ten fields raised IndexError, failing the whole ingest of a file whose
        # subtitle stream held one.
        ("Dialogue:", ""),
        ("Dialogue: 0,0:00:01.00,0:00:02.00,Default", ""),
        ("Dialogue: 0,0:00:01.00,0:00:02.00,Default,,0,0,0,,Hello\\Nthere", "Hello there"),
        ("3,0,Default,,0,0,0,,{\\i1}kept{\\i0}", "kept"),
    ],
)
def test_a_short_subtitle_event_has_no_text_rather_than_an_error(packet, text):
    assert media._subtitle_text(packet) == text
    targets.subtitle_text(packet.encode())


CRASHES = sorted((Path(__file__).parent / "crashes").iterdir())
# What each file now gives, step by step (frames, subtitle streams, audio): the subtitle step is
# the one that crashed, and it must work now.
EXPECTED_SUBTITLE_STEP = {
    "subtitle-cue-before-zero.mkv": "ok",
    "subtitle-stream-without-decoder.mkv": "ok",
}


@pytest.mark.parametrize("found", CRASHES, ids=[p.name for p in CRASHES])
def test_inputs_that_crashed_a_fuzz_target_are_handled(found):
    """Files bench/fuzz.py (atheris) found: each once raised something other than BadInput.
    subtitle-stream-without-decoder.mkv: a subtitle (and audio) stream whose codec FFmpeg has
    no decoder for has no codec context; reading its name raised AttributeError.
    subtitle-cue-before-zero.mkv: a subtitle packet stamped before the video's start gave a cue
    with a negative start time."""
    outcomes = targets.container(found.read_bytes(), suffix=found.suffix)
    assert targets.explained(outcomes) and len(outcomes) == 3, outcomes
    assert outcomes[1] == EXPECTED_SUBTITLE_STEP[found.name], outcomes
