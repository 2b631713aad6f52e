from pathlib import Path

from indexer.media import Cue
from indexer.transcribe import align_to_segments, parse_subtitles, sidecar_cues

SRT = """1
00:00:01,000 --> 00:00:02,500
Hello <i>there</i>

2
00:00:05,000 --> 00:00:07,000
A cyclist
crosses the street

3
broken --> block
"""

VTT = """WEBVTT

00:01.000 --> 00:02.000 align:start
first cue

01:00:00.000 --> 01:00:01.000
an hour in
"""


def test_srt_cues_have_times_and_clean_text():
    cues = parse_subtitles(SRT)
    assert cues == [Cue(1.0, 2.5, "Hello there"), Cue(5.0, 7.0, "A cyclist crosses the street")]


def test_vtt_cues_with_short_and_long_timestamps():
    cues = parse_subtitles(VTT)
    assert cues[0] == Cue(1.0, 2.0, "first cue")
    assert cues[1].start == 3600.0


def test_sidecar_files_next_to_the_video_are_found(tmp_path: Path):
    video = tmp_path / "trip [1].mp4"
    video.write_bytes(b"x")
    (tmp_path / "trip [1].en.srt").write_text(SRT)
    (tmp_path / "other.srt").write_text(SRT.replace("Hello", "Nope"))
    texts = [c.text for c in sidecar_cues(video)]
    assert "Hello there" in texts and not any("Nope" in t for t in texts)


def test_cues_go_to_the_segment_that_holds_their_midpoint():
    cues = [Cue(0.2, 0.6, "a"), Cue(2.9, 3.3, "b"), Cue(9.0, 9.5, "late"), Cue(-1, -0.5, "early")]
    texts = align_to_segments(cues, [(0.0, 3.0), (3.0, 6.0)])
    assert texts == ["early a", "b late"]


def test_no_segments_means_no_text():
    assert align_to_segments([Cue(0, 1, "x")], []) == []


def test_text_subtitle_streams_inside_the_container_are_read(tmp_path: Path):
    from indexer.media import subtitle_cues, write_video
    from tests.conftest import colour_shots

    cues = [Cue(1.0, 2.0, "Hello subtitle world"), Cue(4.5, 5.5, "second line")]
    clip = write_video(tmp_path / "subbed.mkv", colour_shots([3.0, 3.0]), subtitles=cues)
    assert subtitle_cues(clip) == cues
