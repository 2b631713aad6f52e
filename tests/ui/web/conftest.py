"""A real embedded library for the web UI's tests: package-shipped footage (a street scene with
a sidecar subtitle file, an animation, a city at night that browsers cannot play as it is) and a
narrated clip, indexed once per test session with the real models."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from core.settings import Settings, get_settings
from tests.conftest import require_module, shipped_videos

ROOT = Path(__file__).resolve().parents[3]
APP = ROOT / "ui" / "web" / "app.py"
# bikes.mp4 cuts at 1.28 s; this line is said in the second shot, so its moment starts there.
TRAM_LINE = "a tram rolls past the cyclists on the avenue"
BIKES_SRT = f"1\n00:00:03,000 --> 00:00:07,500\n{TRAM_LINE}\n"


@pytest.fixture(scope="session")
def footage_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from indexer.samples import NARRATION, narrated_clip
    from services.ingest import run_jobs, submit

    skimage_data = require_module("skimage.data", "scripts/bootstrap.sh installs scikit-image")
    if shutil.which("espeak-ng") is None:
        pytest.fail("espeak-ng is missing: scripts/bootstrap.sh installs it")
    root = tmp_path_factory.mktemp("web-library")
    media = root / "media"
    media.mkdir()
    videos = {p.name: p for p in shipped_videos()}
    assert {"bikes.mp4", "bigbuckbunny.mp4", "cityCC0.mpg"} <= set(videos), videos
    for src in videos.values():
        shutil.copyfile(src, media / src.name)
    (media / "bikes.srt").write_text(BIKES_SRT)
    narrated_clip(media / "espresso_narrated.mp4", skimage_data.coffee(), NARRATION)
    settings = Settings(home=root / "home")
    results = run_jobs(settings, submit(settings, [media]))
    assert set(results.values()) == {"succeeded"}, results
    return settings.home


@pytest.fixture
def web_settings(footage_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """The process's settings point at the footage library (what `vidsearch ui` would read).
    AppTest runs the app unbound; VIDSEARCH_AUTH=off makes it the owner's local server, as
    `vidsearch ui` on 127.0.0.1 is (tests of sign-in set it to required)."""
    monkeypatch.setenv("VIDSEARCH_HOME", str(footage_home))
    monkeypatch.setenv("VIDSEARCH_AUTH", "off")
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


@pytest.fixture
def video_id_of(web_settings: Settings) -> Callable[[str], str]:
    from services.library import page_videos

    def find(file_name: str) -> str:
        for v in page_videos(web_settings).items:
            if Path(v["path"]).name == file_name:
                return str(v["video_id"])
        raise AssertionError(f"{file_name} is not in the library")

    return find


def wait_for_jobs(settings: Settings, job_ids: list[int], timeout: float = 120.0) -> list[dict]:
    """The jobs once the UI's background runner has finished them."""
    from services.ingest import job_views

    deadline = time.monotonic() + timeout
    while True:
        views = job_views(settings, job_ids)
        if all(v["status"] in ("succeeded", "skipped", "failed") for v in views):
            return views
        assert time.monotonic() < deadline, views
        time.sleep(0.2)
