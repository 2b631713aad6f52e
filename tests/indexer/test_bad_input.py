"""Each kind of bad input fails its own job with a reason that names the file; nothing else changes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.db import session_scope
from core.models import Segment, Video, VideoPath
from indexer.media import write_video
from tests.conftest import colour_shots

pytestmark = pytest.mark.real_models


def _catalog_state(settings):
    with session_scope(settings) as s:
        videos = sorted((v.id, v.status, v.revision) for v in s.query(Video))
        segments = s.query(Segment).count()
        paths = sorted(p.path for p in s.query(VideoPath))
    thumbs = (
        sorted(
            str(p.relative_to(settings.thumbnails_dir))
            for p in settings.thumbnails_dir.rglob("*.jpg")
        )
        if settings.thumbnails_dir.exists()
        else []
    )
    return videos, segments, paths, thumbs


@pytest.fixture
def indexed_one(cli, make_clip, settings):
    """A library holding one good video, so a bad file's effect on others can be seen."""
    good = make_clip("good.mp4", [2.0, 2.0])
    code, out = cli("ingest", str(good), "--json")
    assert code == 0 and out[0]["status"] == "succeeded"
    return _catalog_state(settings)


def _bad_files(tmp: Path, make_clip) -> dict[str, tuple[Path, str]]:
    tmp.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    files: dict[str, tuple[Path, str]] = {}
    empty = tmp / "empty.mp4"
    empty.write_bytes(b"")
    files["zero bytes"] = (empty, "empty file")
    noise = tmp / "noise.mp4"
    noise.write_bytes(rng.integers(0, 256, 20_000, dtype=np.uint8).tobytes())
    files["random bytes"] = (noise, "not a media file")
    whole = make_clip("whole.mp4", [3.0, 3.0], folder=tmp / "src")
    cut = tmp / "cut.mp4"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    files["truncated mp4"] = (cut, "truncated")
    web = write_video(tmp / "src" / "web.mp4", colour_shots([3.0, 3.0]), faststart=True)
    web_cut = tmp / "web_cut.mp4"
    web_cut.write_bytes(web.read_bytes()[: web.stat().st_size // 2])
    files["truncated web mp4"] = (web_cut, "truncated")
    tone = np.sin(np.arange(32_000) / 8).astype(np.float32) * 0.3
    files["audio only"] = (write_video(tmp / "song.mp4", [], audio=tone), "no video stream")
    files["zero frames"] = (
        write_video(tmp / "blank.avi", [], size=(64, 48)),
        "no decodable frames",
    )
    alien = tmp / "alien.mp4"
    alien.write_bytes(whole.read_bytes().replace(b"avc1", b"zzzz"))
    files["unsupported codec"] = (alien, "unsupported codec")
    broken = bytearray(whole.read_bytes())
    broken[200 : len(broken) - 3000] = rng.integers(
        0, 256, len(broken) - 3200, dtype=np.uint8
    ).tobytes()
    garbled = tmp / "garbled.mp4"
    garbled.write_bytes(bytes(broken))
    files["undecodable stream"] = (garbled, "cannot be decoded")
    files["missing path"] = (tmp / "nope" / "missing.mp4", "does not exist")
    return files


def test_every_bad_file_fails_its_job_with_a_reason_and_changes_nothing(
    cli, make_clip, settings, tmp_path, indexed_one
):
    for kind, (path, reason) in _bad_files(tmp_path / "bad", make_clip).items():
        code, out = cli("ingest", str(path), "--wait", "--json")
        assert code == 1, kind
        (job,) = out
        assert job["status"] == "failed", kind
        assert reason in job["error"], f"{kind}: {job['error']}"
        assert str(path.name) in job["error"], f"{kind}: the error must name the file"
        videos, segments, paths, thumbs = _catalog_state(settings)
        assert [v for v in videos if v[1] == "ready"] == indexed_one[0], kind
        assert segments == indexed_one[1] and thumbs == indexed_one[3], kind


def test_a_folder_with_one_bad_file_indexes_the_good_ones(cli, make_clip, settings, tmp_path):
    folder = tmp_path / "library"
    make_clip("a.mp4", [2.0], folder=folder, seed=1)
    make_clip("b.mp4", [1.5, 1.5], folder=folder / "sub", seed=2)
    (folder / "broken.mp4").write_bytes(b"\x00" * 4096)
    (folder / "notes.txt").write_text("not a video, not picked up")
    code, out = cli("ingest", str(folder), "--wait", "--json")
    assert code == 1
    status = {Path(j["path"]).name: j["status"] for j in out}
    assert status == {"a.mp4": "succeeded", "b.mp4": "succeeded", "broken.mp4": "failed"}
    _, listing = cli("videos", "--json")
    assert sorted(v["status"] for v in listing[0]["videos"]) == ["ready", "ready"]


def test_the_same_file_twice_is_a_no_op_the_second_time(cli, make_clip, settings):
    clip = make_clip("twice.mp4", [2.0, 2.0])
    _, first = cli("ingest", str(clip), "--json")
    before = _catalog_state(settings)
    code, second = cli("ingest", str(clip), "--json")
    assert code == 0
    assert first[0]["status"] == "succeeded" and second[0]["status"] == "skipped"
    assert second[0]["progress"] == 1.0  # nothing left to do: not stuck at 0 %
    assert "already indexed" in second[0]["note"]
    assert second[0]["video_id"] == first[0]["video_id"]
    assert _catalog_state(settings) == before


def test_the_same_content_under_two_names_is_one_video_with_both_paths(
    cli, make_clip, settings, tmp_path
):
    clip = make_clip("original.mp4", [2.0])
    copy = tmp_path / "elsewhere" / "copy.mp4"
    copy.parent.mkdir()
    copy.write_bytes(clip.read_bytes())
    code, out = cli("ingest", str(clip), str(copy), "--json")
    assert code == 0
    _, listing = cli("videos", "--json")
    (video,) = listing[0]["videos"]
    assert sorted(video["paths"]) == sorted([str(clip), str(copy)])
    assert [j["status"] for j in out] == ["succeeded", "skipped"]
