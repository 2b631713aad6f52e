"""Hostile files and names: a decompression bomb (huge declared pictures in a tiny file), a
ten-hour video header, names with spaces, unicode, newlines and leading dashes, a picture query
that is a bomb, queries of 100 kB and of control characters. Each is refused with a clear reason
and bounded memory, or indexed as it should be; nothing else changes."""

from __future__ import annotations

import io
import json
import shutil
import struct
import subprocess
import sys
import time
import zlib
from fractions import Fraction
from pathlib import Path
from urllib.parse import urlencode

import pytest

from core.db import session_scope
from core.errors import BadInput
from core.models import Job, Video
from core.settings import Settings
from tests.http import LOCAL_URL

REPO = Path(__file__).resolve().parents[2]
BOMB_SIDE = 8192  # 67 million pixels a picture, over the default limit of 50 million


def _run_python(code: str, timeout: float = 120) -> dict:
    """Run code in a fresh interpreter; it prints one JSON line, returned with its peak memory."""
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            code + "\nimport resource, json, sys\n"
            "sys.stdout.write('\\n' + json.dumps({'maxrss_mb': "
            "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1"},
    )
    assert out.returncode == 0, out.stderr
    lines = [json.loads(x) for x in out.stdout.splitlines() if x.startswith("{")]
    merged: dict = {}
    for line in lines:
        merged.update(line)
    return merged


@pytest.fixture(scope="module")
def bomb(tmp_path_factory) -> Path:
    """Two black 8192x8192 H.264 pictures: about 200 kB on disk, 100 MB a decoded picture. Made
    in a child process (encoding it takes 750 MB for a moment)."""
    path = tmp_path_factory.mktemp("bomb") / "bomb.mp4"
    code = f"""
import av
from fractions import Fraction
with av.open({str(path)!r}, "w") as out:
    s = out.add_stream("libx264", rate=Fraction(1))
    s.width = s.height = {BOMB_SIDE}
    s.pix_fmt = "yuv420p"
    s.options = {{"preset": "ultrafast", "crf": "51"}}
    f = av.VideoFrame({BOMB_SIDE}, {BOMB_SIDE}, "yuv420p")
    for p in f.planes:
        p.update(bytes(p.buffer_size))
    for i in range(2):
        f.pts = i
        for p in s.encode(f):
            out.mux(p)
    for p in s.encode(None):
        out.mux(p)
"""
    _run_python(code, timeout=300)
    assert path.stat().st_size < 1_000_000
    return path


def test_a_decompression_bomb_is_refused_from_its_header_with_memory_bounded(bomb, tmp_path):
    with pytest.raises(BadInput) as refused:
        from indexer.register import register

        register(bomb, Settings(home=tmp_path / "home"))
    reason = str(refused.value)
    assert "8192 x 8192" in reason and "over the limit of 50,000,000 pixels" in reason
    assert "nothing was decoded" in reason
    measure = """
import time
from pathlib import Path
from core.errors import BadInput
from core.settings import Settings
from indexer.register import register
import json
path = Path({path!r})
started = time.monotonic()
try:
    register(path, Settings(home=Path({home!r})))
    outcome = "indexed"
except BadInput as exc:
    outcome = "refused"
print(json.dumps({{"outcome": outcome, "seconds": time.monotonic() - started}}))
"""
    small = tmp_path / "small.mp4"
    from indexer.media import write_video
    from tests.conftest import colour_shots

    write_video(small, colour_shots([1.0], size=(64, 48)))
    home = str(tmp_path / "home")
    baseline = _run_python(measure.format(path=str(small), home=home))
    hostile = _run_python(measure.format(path=str(bomb), home=home))
    assert baseline["outcome"] == "indexed" and hostile["outcome"] == "refused"
    assert hostile["seconds"] < 2.0
    # One decoded picture would be 100 MB (several with frame threads): none was made.
    assert hostile["maxrss_mb"] < baseline["maxrss_mb"] + 30, (hostile, baseline)


def test_the_decoder_refuses_pictures_over_the_limit_too(bomb):
    from indexer.media import sample_frames

    frames = sample_frames(
        bomb, fps=1, model_side=32, thumb_width=32, expected_duration=2, max_pixels=1_000_000
    )
    with pytest.raises(BadInput, match="over the limit of 1,000,000 pixels"):
        next(frames)


def test_a_bomb_fails_its_job_and_changes_nothing_else(bomb, settings, cli):
    code, out = cli("ingest", str(bomb), "--json")
    assert code == 1 and out[0]["status"] == "failed"
    assert "over the limit" in out[0]["error"] and out[0]["video_id"] is None
    with session_scope(settings) as s:
        assert s.query(Video).count() == 0 and s.query(Job).count() == 1
    assert not settings.thumbnails_dir.exists() or not any(settings.thumbnails_dir.iterdir())


def _png_header(width: int, height: int) -> bytes:
    """A PNG that declares a huge picture and holds almost nothing."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_a_picture_query_that_is_a_bomb_is_refused_unread():
    from search.service import decode_image
    from search.types import QueryError

    for side in (9_000, 40_000):  # PIL alone only warns below 179 MP
        with pytest.raises(QueryError, match="over the limit"):
            decode_image(_png_header(side, side))


def _ten_hour_video(path: Path, seconds: int = 36_000) -> Path:
    """A tiny file whose header says ten hours: two pictures, the second at 10:00:00."""
    import av
    import numpy as np

    with av.open(str(path), "w") as out:
        s = out.add_stream("libx264", rate=Fraction(1))
        s.width, s.height, s.pix_fmt = 64, 48, "yuv420p"
        s.codec_context.time_base = Fraction(1, 1000)
        for i, t in enumerate([0, seconds]):
            rgb = np.full((48, 64, 3), 30 + 100 * i, np.uint8)
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts, frame.time_base = t * 1000, Fraction(1, 1000)
            for p in s.encode(frame):
                out.mux(p)
        for p in s.encode(None):
            out.mux(p)
    return path


def test_a_ten_hour_header_is_refused_before_the_file_is_read(tmp_path, monkeypatch):
    from indexer import register as reg

    path = _ten_hour_video(tmp_path / "ten hours.mkv")
    assert path.stat().st_size < 10_000
    monkeypatch.setattr(reg, "sha256_file", lambda _p: pytest.fail("hashed a refused file"))
    started = time.monotonic()
    with pytest.raises(BadInput) as refused:
        reg.register(path, Settings(home=tmp_path / "home"))
    assert time.monotonic() - started < 1.0
    assert "lasts 36001 s, over the limit of 21600 s" in str(refused.value)
    assert "VIDSEARCH_MAX_DURATION_SECONDS" in str(refused.value)


@pytest.mark.real_models
def test_with_the_limit_raised_a_sparse_ten_hour_video_costs_what_it_holds(
    tmp_path, cli, settings, monkeypatch
):
    monkeypatch.setenv("VIDSEARCH_MAX_DURATION_SECONDS", str(11 * 3600))
    path = _ten_hour_video(tmp_path / "ten hours.mkv")
    started = time.monotonic()
    code, out = cli("ingest", str(path), "--json")
    assert code == 0 and out[0]["status"] == "succeeded", out
    assert time.monotonic() - started < 120
    with session_scope(settings) as s:
        (video,) = s.query(Video).all()
        assert video.duration == pytest.approx(36001, abs=1) and len(video.segments) <= 3


# --- names -------------------------------------------------------------------------------------

HOSTILE_NAMES = [
    "a clip with  spaces.mp4",
    "ünïcödé 映像 🎬.mp4",
    "new\nline.mp4",
    "-leading-dash.mp4",
    "--help.mp4",
    "tab\tand\x1b[2Jescape.mp4",
    "'quote\" and $(dollar) `tick`.mp4",
]


@pytest.mark.real_models
def test_names_with_spaces_unicode_newlines_and_dashes_are_indexed_as_they_are(
    tmp_path, settings, cli, capsys
):
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.deps import Services
    from indexer.media import write_video
    from tests.conftest import colour_shots

    folder = settings.videos_dir
    folder.mkdir(parents=True)
    for n, name in enumerate(HOSTILE_NAMES):
        write_video(folder / name, colour_shots([1.0], size=(64, 48), seed=n), fps=10)
    code, out = cli("ingest", str(folder), "--json")
    assert code == 0, out
    assert sorted(Path(j["path"]).name for j in out) == sorted(HOSTILE_NAMES)
    assert all(j["status"] == "succeeded" for j in out)
    code, listed = cli("videos", "--json")
    assert sorted(Path(v["path"]).name for v in listed[0]["videos"]) == sorted(HOSTILE_NAMES)

    # A name on a terminal: control characters shown as escapes, never acted on.
    code, lines = cli("videos")
    text = "\n".join(lines)
    assert "\x1b" not in text and "new\\nline.mp4" in text and "\\x1b[2J" in text
    assert len(lines) == len(HOSTILE_NAMES)  # a newline in a name forges no line

    # Over HTTP: listed verbatim in JSON, streamed with a header no name can break.
    app = create_app(settings)
    app.state.services = Services(settings)
    client = TestClient(app, base_url=LOCAL_URL)
    videos = client.get("/videos").json()["videos"]
    assert sorted(Path(v["path"]).name for v in videos) == sorted(HOSTILE_NAMES)
    for v in videos:
        r = client.get(f"/videos/{v['video_id']}/stream", headers={"Range": "bytes=0-15"})
        assert r.status_code == 206
        disposition = r.headers["content-disposition"]
        assert "\n" not in disposition and "\r" not in disposition
        assert disposition.startswith("inline")
    # Ingest over HTTP names them as they are too (inside the default root, home/videos).
    again = client.post("/ingest", json={"paths": [str(folder / "new\nline.mp4")]})
    assert again.status_code == 202
    app.state.services.shutdown()  # the background runner finishes (it is indexed already)
    code, jobs = cli("jobs", "--json")
    assert jobs[0]["jobs"][0]["status"] == "skipped"


def test_a_leading_dash_is_a_file_not_an_option_after_a_double_dash(tmp_path, settings, cli):
    import os

    (tmp_path / "-x.mp4").write_bytes(b"not a video")
    here = os.getcwd()
    os.chdir(tmp_path)
    try:
        code, out = cli("ingest", "--json", "--", "-x.mp4")
    finally:
        os.chdir(here)
    assert code == 1 and out[0]["status"] == "failed" and "not a media file" in out[0]["error"]


# --- queries -------------------------------------------------------------------------------------


def test_queries_of_100_kb_and_of_control_characters_are_refused_with_reasons(settings, cli):
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.deps import Services

    app = create_app(settings)
    app.state.services = Services(settings)  # the models never load: every query is refused
    client = TestClient(app, base_url=LOCAL_URL)
    for q, reason in [
        ("x" * 100_000, "at most 1000 characters"),
        ("\x00\x01\x02\x1b\x7f", "only control or invisible characters"),
        ("\u200b\u200b", "only control or invisible characters"),
    ]:
        # httpx will not send a URL this long; the app is called as a server would call it.
        status, body = _asgi_get(app, "/search", urlencode({"q": q}))
        assert status == 422, (q[:10], body[:200])
        assert reason in body, body[:300]
        status, _ = _asgi_get(app, "/videos/x/summary", urlencode({"q": q}))
        assert status in (404, 422)
    code, _ = cli("search", "x" * 100_000)
    assert code == 2
    big = io.BytesIO(_png_header(20_000, 20_000))
    r = client.post("/search/image", files={"image": ("bomb.png", big, "image/png")})
    assert r.status_code == 422 and "over the limit" in r.json()["detail"]
    huge = client.post(
        "/search/image", files={"image": ("big.png", b"\0" * (21 * 1024 * 1024), "image/png")}
    )
    assert huge.status_code == 413


def _asgi_get(app, path: str, query: str) -> tuple[int, str]:
    """One GET through the ASGI app, as uvicorn would make it (no client-side URL limit)."""
    import asyncio

    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    asyncio.run(app(scope, receive, send))
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, body.decode()


def test_a_folder_of_hostile_names_is_walked_without_following_them_out(tmp_path):
    from indexer.paths import expand_paths

    folder = tmp_path / "videos"
    folder.mkdir()
    for name in HOSTILE_NAMES:
        (folder / name).write_bytes(b"x")
    (folder / "not-a-video.txt").write_bytes(b"x")
    found = list(expand_paths([folder]))
    assert sorted(p.name for p in found) == sorted(HOSTILE_NAMES)
    shutil.rmtree(folder)
