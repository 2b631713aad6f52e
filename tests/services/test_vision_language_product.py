"""The whole product on a vision-language model the user brought (a tiny random CLIP here,
built by the test): real footage indexed on the embedded default, text, picture and
find-similar search, a summary, the slots listed, and a missing model refused at start-up."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from core.settings import Settings
from tests.conftest import shipped_videos
from tests.tiny_models import tiny_clip


@pytest.fixture(scope="module")
def clip_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_clip(tmp_path_factory.mktemp("models") / "tiny-clip")


@pytest.fixture
def settings(tmp_path: Path, clip_folder: Path) -> Settings:
    # Speech, text on screen and people are the other slots' work: off, to keep this short.
    return Settings(
        home=tmp_path / "home",
        vision_model=str(clip_folder),
        transcribe=False,
        screen_text=False,
        people=False,
    )


def test_a_library_indexed_and_searched_with_a_vision_language_model(cli, settings, clip_folder):
    from core.db import session_scope
    from core.models import Video
    from model_lifecycle.active import active_space_name
    from services.root import Services
    from videobert.locations import query_encoder_folder
    from videobert.options import ModelOptions

    code, out = cli("models", "--json")
    assert code == 0
    vision = out[0]["slots"][0]
    assert vision["slot"] == "vision" and vision["ready"] and vision["error"] is None
    assert vision["model"] == str(clip_folder) and vision["path"] == str(clip_folder)
    assert (vision["device"], vision["dtype"]) == ("cpu", "float32")

    video = next(p for p in shipped_videos() if p.name == "bikes.mp4")
    code, out = cli("ingest", str(video), "--wait", "--json")
    assert code == 0 and out[0]["status"] == "succeeded", out

    space = active_space_name(ModelOptions.from_settings(settings))
    assert space is not None and space.startswith("vlm:tiny-clip-")
    with session_scope(settings) as session:
        videos = list(session.scalars(select(Video)))
    # Every vector of the library is in the vision-language model's space, none in another.
    assert [v.embedding_model for v in videos] == [space]

    code, out = cli("search", "a bicycle on the street", "--json")
    assert code == 0 and out[0]["results"], out
    video_id = out[0]["results"][0]["video_id"]
    assert out[0]["results"][0]["moments"]
    # Queries went through the text tower exported once (no torch in later search processes).
    assert (query_encoder_folder(settings.home, space) / "query_encoder.json").is_file()

    services = Services(settings)
    from PIL import Image

    picture = io.BytesIO()
    Image.fromarray(np.full((64, 64, 3), 120, np.uint8)).save(picture, format="PNG")
    by_picture = services.search.search_image(picture.getvalue())
    assert [r.video_id for r in by_picture.results] == [video_id]

    code, out = cli("related", video_id, "--segment", "0", "--json")
    assert code == 0 and "results" in out[0]

    code, out = cli("summary", video_id, "--json")
    assert code == 0 and out[0]["summary"].strip() and out[0]["model"], out
    print(out[0])

    code, lines = cli("doctor")
    text = "\n".join(lines)
    assert "vision model" in text and str(clip_folder) in text


def test_a_missing_vision_model_stops_ingest_at_start_up_with_one_line(
    cli, tmp_path, capsys, monkeypatch
):
    missing = tmp_path / "no-such-checkpoint"
    monkeypatch.setenv("VIDSEARCH_VISION_MODEL", str(missing))
    video = next(p for p in shipped_videos() if p.name == "bikes.mp4")
    code, _ = cli("ingest", str(video), "--wait", "--json")
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and err[0].startswith("vidsearch ingest: vision model"), err
    assert "VIDSEARCH_VISION_MODEL" in err[0] and str(missing) in err[0]
    code, out = cli("models", "--json")
    vision = out[0]["slots"][0]
    assert (
        code == 0
        and not vision["ready"]
        and "is not a folder with a config.json" in vision["error"]
    )
    code, lines = cli("models")
    assert code == 1 and any("MISSING" in line for line in lines)
    # Nothing was queued or half-written.
    code, out = cli("jobs", "--json")
    assert out[0]["jobs"] == []
