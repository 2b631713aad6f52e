"""A browser plays the file itself when it can, and otherwise a copy made once that keeps the
timestamps of the moments search points at."""

from __future__ import annotations

import pytest

from indexer.media import probe, sample_frames, write_video
from services.playback import browser_mimetype, needs_conversion, playable_file
from tests.catalog_helpers import add_ready_video
from tests.conftest import colour_shots

MP4 = "mov,mp4,m4a,3gp,3g2,mj2"


@pytest.mark.parametrize(
    ("container", "video", "audio", "suffix", "expected"),
    [
        (MP4, "h264", "aac", ".mp4", "video/mp4"),
        (MP4, "h264", None, ".MOV", "video/mp4"),
        ("matroska,webm", "vp9", "opus", ".webm", "video/webm"),
        ("matroska,webm", "h264", "aac", ".mkv", None),  # Matroska is not a browser format
        (MP4, "hevc", "aac", ".mp4", None),
        (MP4, "h264", "ac3", ".mp4", None),
        ("mpeg", "mpeg2video", None, ".mpg", None),
        ("avi", "msmpeg4", None, ".avi", None),
        (None, None, None, ".mp4", None),
    ],
)
def test_what_browsers_play_as_it_is(container, video, audio, suffix, expected):
    assert browser_mimetype(container, video, audio, suffix) == expected


def _register(settings, path, **codecs):
    from core.db import session_scope
    from core.models import Video

    vid = add_ready_video(settings, path.name, ["x"], folder=str(path.parent))
    with session_scope(settings) as session:
        video = session.get(Video, vid)
        assert video is not None
        video.container, video.video_codec, video.audio_codec = (
            codecs["container"],
            codecs["video_codec"],
            codecs.get("audio_codec"),
        )
    return vid


def test_a_browser_friendly_file_is_served_as_it_is(settings, tmp_path):
    clip = write_video(tmp_path / "a.mp4", colour_shots([1.0]))
    vid = _register(settings, clip, container=MP4, video_codec="h264")
    assert not needs_conversion(settings, vid)
    playable = playable_file(settings, vid)
    assert playable.path == clip and not playable.converted


def test_an_mpeg2_file_gets_an_h264_copy_once_with_the_same_timing(settings, tmp_path):
    src = write_video(tmp_path / "old.mpg", colour_shots([2.0, 2.0]), codec="mpeg2video")
    info = probe(src)
    vid = _register(settings, src, container=info.container, video_codec=info.video_codec)
    assert needs_conversion(settings, vid)
    seen: list[float] = []
    playable = playable_file(settings, vid, on_progress=seen.append)
    assert playable.converted and playable.mimetype == "video/mp4" and seen[-1] > 0.9
    copy = probe(playable.path)
    assert copy.video_codec == "h264" and copy.container == MP4
    # The cut from the red shot to the green one is at the same time in both files, so the
    # moments the catalog points at (frame times of the original, MPEG's start offset
    # included) are where the player seeks.
    assert _cut_time(playable.path) == pytest.approx(_cut_time(src), abs=0.05)
    assert not needs_conversion(settings, vid)
    assert playable_file(settings, vid).path.stat().st_mtime == playable.path.stat().st_mtime


def _cut_time(path) -> float:
    info = probe(path)
    for f in sample_frames(
        path, fps=25, model_side=8, thumb_width=16, expected_duration=info.duration
    ):
        red, green, _ = f.model_rgb.mean(axis=(0, 1))
        if green > red:
            return f.t
    raise AssertionError(f"no cut in {path}")
