"""The whole product on a vision-language model the user brought (a tiny random CLIP here,
built by the test): real footage indexed on the embedded default, text, picture and
find-similar search, a summary, the slots listed, and a missing model refused at start-up."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from core.settings import Settings
from tests.conftest import shipped_videos
from tests.tiny_models import tiny_bart, tiny_clip, tiny_siglip2


@pytest.fixture(scope="module", params=["tiny-clip", "tiny-siglip2"])
def clip_folder(request, tmp_path_factory: pytest.TempPathFactory) -> Path:
    build = {"tiny-clip": tiny_clip, "tiny-siglip2": tiny_siglip2}[request.param]
    return build(tmp_path_factory.mktemp("models") / request.param)


@pytest.fixture(scope="module")
def bart_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_bart(tmp_path_factory.mktemp("models") / "tiny-bart")


@pytest.fixture
def settings(tmp_path: Path, clip_folder: Path, bart_folder: Path) -> Settings:
    # Speech, text on screen and people are the other slots' work: off, to keep this short.
    return Settings(
        home=tmp_path / "home",
        vision_model=str(clip_folder),
        summary_model=str(bart_folder),
        transcribe=False,
        screen_text=False,
        people=False,
    )


def test_a_library_indexed_and_searched_with_a_vision_language_model(
    cli, settings, clip_folder, bart_folder, tmp_path
):
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

    # Subtitles beside it: something said, for the summarizer (speech recognition is off).
    shipped = next(p for p in shipped_videos() if p.name == "bikes.mp4")
    video = Path(shutil.copy(shipped, tmp_path / "bikes.mp4"))
    (tmp_path / "bikes.srt").write_text(
        "1\n00:00:00,500 --> 00:00:04,000\nA man rides a bicycle down the street.\n\n"
        "2\n00:00:05,000 --> 00:00:09,000\nThe red car waits at the city road.\n",
        encoding="utf-8",
    )
    code, out = cli("ingest", str(video), "--wait", "--json")
    assert code == 0 and out[0]["status"] == "succeeded", out

    space = active_space_name(ModelOptions.from_settings(settings))
    assert space is not None and space.startswith(f"vlm:{clip_folder.name}-")
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
    # The summary names the model that made it: the summarizer the user brought.
    assert code == 0 and out[0]["summary"].strip(), out
    assert (out[0]["method"], out[0]["model"]) == ("bart", str(bart_folder)), out

    code, lines = cli("doctor")
    text = "\n".join(lines)
    assert "vision model" in text and str(clip_folder) in text
