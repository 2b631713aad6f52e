"""Search that sees people and reads the screen, on real footage with the real shipped models:
opencv-doc's vtest.avi (people walking past a lawn), a clip whose second shot is a sign, and a
photo of a cup with nobody in it. What a query names on screen or asks of people finds it; an
absent thing is answered with weak results only, flagged."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from core.settings import Settings
from indexer.media import write_video
from indexer.samples import pan_zoom_frames
from search.service import SearchService
from tests.conftest import require, require_module

pytestmark = pytest.mark.real_models
VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")
SIGN = ("FISH MARKET", "OPEN SUNDAYS")


def sign_frames(lines: tuple[str, ...], *, seconds: float, fps: int = 25):  # type: ignore[no-untyped-def]
    """A plain sign held still: dark bold letters on white, as a title card or a shop sign."""
    from matplotlib import get_data_path
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(str(Path(get_data_path()) / "fonts/ttf/DejaVuSans-Bold.ttf"), 40)
    img = Image.new("RGB", (480, 320), (245, 245, 240))
    draw = ImageDraw.Draw(img)
    for i, line in enumerate(lines):
        width = draw.textlength(line, font=font)
        draw.text(((480 - width) / 2, 90 + 80 * i), line, fill=(20, 20, 30), font=font)
    frame = np.asarray(img)
    for _ in range(int(seconds * fps)):
        yield frame


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    from services.ingest import run_jobs, submit

    require(VTEST.is_file(), f"{VTEST} is missing: scripts/bootstrap.sh installs opencv-doc")
    skdata = require_module("skimage.data", "scripts/bootstrap.sh installs scikit-image")
    root = tmp_path_factory.mktemp("seen")
    media = root / "media"
    media.mkdir()
    shutil.copyfile(VTEST, media / "walk.avi")

    def market():  # type: ignore[no-untyped-def]
        yield from pan_zoom_frames(skdata.coffee(), seconds=4.0)
        yield from sign_frames(SIGN, seconds=4.0)

    write_video(media / "market.mp4", market())
    write_video(media / "cup.mp4", pan_zoom_frames(skdata.coffee(), seconds=4.0))
    settings = Settings(home=root / "home", summaries_at_index=False)
    assert set(run_jobs(settings, submit(settings, [media])).values()) == {"succeeded"}
    from model_lifecycle.active import load_embedder

    return settings, SearchService(settings, load_embedder(settings))


def names(response):  # type: ignore[no-untyped-def]
    return [Path(r.path).name for r in response.results]


def test_people_walking_finds_the_street_and_says_who_is_seen(library):
    _, service = library
    response = service.search("people walking")
    assert names(response)[0] == "walk.avi"
    assert "people" in response.results[0].moments[0].text  # "[seen: a few people · ...]"
    # Nobody is in the cup: a query for people never ranks it first.
    assert names(service.search("a person"))[0] != "cup.mp4"


def test_a_word_shown_on_screen_finds_its_moment(library):
    _, service = library
    response = service.search("fish market")
    top = response.results[0]
    assert Path(top.path).name == "market.mp4" and not top.weak
    assert top.moments[0].start == pytest.approx(4.0, abs=0.6)  # the sign is the second shot
    assert "on screen: “FISH MARKET" in top.moments[0].text


def test_the_sign_and_the_people_reach_the_video_page_and_the_summary(library):
    from services.library import page_videos, video_detail
    from services.summaries import summary_of

    settings, _ = library
    ids = {Path(v["path"]).name: v["video_id"] for v in page_videos(settings).items}
    segments = video_detail(settings, ids["market.mp4"])["segment_list"]
    assert segments[-1]["on_screen"][:2] == list(SIGN)
    assert segments[0]["on_screen"] == [] and segments[0]["people"] == []
    assert (
        "On screen: “FISH MARKET / OPEN SUNDAYS”."
        in summary_of(settings, ids["market.mp4"]).summary
    )
    assert "people" in summary_of(settings, ids["walk.avi"]).summary


def test_an_absent_thing_is_answered_weakly_and_flagged(library):
    _, service = library
    response = service.search("a volcano erupting at night")
    assert response.cut_off and response.results and all(r.weak for r in response.results)
