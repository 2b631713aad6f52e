"""Switching the vision model is a re-index, never a reinstall: real footage indexed with the
shipped model moves to a tiny random CLIP (built here) and back, decoded again from the files,
while a client searches; a crash in the middle is carried on by the next run; a video indexed
during the switch and one whose file is gone both arrive in the new space."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from core.arrays import unpack_f16_matrix
from core.db import session_scope
from core.models import Segment, Video
from core.settings import Settings
from tests.conftest import shipped_videos
from tests.tiny_models import tiny_clip

QUICK = {"transcribe": False, "screen_text": False, "people": False, "summaries_at_index": False}


@pytest.fixture(scope="module")
def clip_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_clip(tmp_path_factory.mktemp("models") / "tiny-clip")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", **QUICK)


@pytest.fixture
def footage(tmp_path: Path) -> list[Path]:
    """Copies of two short shipped videos (a test may delete one)."""
    folder = tmp_path / "footage"
    folder.mkdir()
    wanted = {"bigbuckbunny.mp4", "cityCC0.mpg"}
    return [Path(shutil.copy(p, folder / p.name)) for p in shipped_videos() if p.name in wanted]


def _library(settings: Settings) -> tuple[set[str | None], set[int]]:
    """(the videos' spaces, the widths of their segments' clip features)."""
    with session_scope(settings) as session:
        spaces = set(session.scalars(select(Video.embedding_model)))
        widths = {
            unpack_f16_matrix(blob).shape[1]
            for blob in session.scalars(select(Segment.clip_features))
        }
    return spaces, widths


def _vision(monkeypatch: pytest.MonkeyPatch, folder: Path | None) -> Settings:
    """The settings a restarted process reads after the user changed VIDSEARCH_VISION_MODEL."""
    from core.settings import get_settings

    if folder is None:
        monkeypatch.delenv("VIDSEARCH_VISION_MODEL", raising=False)
    else:
        monkeypatch.setenv("VIDSEARCH_VISION_MODEL", str(folder))
    get_settings.cache_clear()
    return get_settings()


class Searcher:
    """A client searching without pause in its own thread, every answer and error kept."""

    def __init__(self, settings: Settings) -> None:
        from services.root import Services

        self.services = Services(settings)
        self.stop = threading.Event()
        self.answers = 0
        self.errors: list[BaseException] = []
        self.spaces: list[str] = []
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                response = self.services.search.search("a street with cars", limit=5)
                assert response.results, "an answer with no result"
                self.spaces.append(self.services.embedder.name)
                self.answers += 1
            except BaseException as exc:  # noqa: BLE001 - every failed answer is the test's
                self.errors.append(exc)
                return

    def __enter__(self) -> Searcher:
        self.services.search.search("warm up")
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(60)


def test_switching_to_a_vision_language_model_and_back_while_a_client_searches(
    cli, settings, footage, clip_folder, monkeypatch, capsys
):
    code, out = cli("ingest", *map(str, footage), "--wait", "--json")
    assert code == 0 and {o["status"] for o in out} == {"succeeded"}, out
    before, widths = _library(settings)
    assert len(before) == 1 and widths == {1280}

    clip_settings = _vision(monkeypatch, clip_folder)
    with Searcher(clip_settings) as searcher:
        code, out = cli("models", "switch", "--json")
    assert code == 0 and out[0]["switched"], out
    assert not searcher.errors, searcher.errors
    assert searcher.answers > 0
    after, widths = _library(settings)
    assert len(after) == 1 and after != before and next(iter(after)).startswith("vlm:")
    assert widths == {16}  # the clips were decoded again and read by the CLIP image tower
    # Every answer was in one space, the old one until the swap, then the new one.
    seen = searcher.spaces
    assert set(seen) <= before | after
    assert seen == sorted(seen, key=lambda name: name in after)
    code, out = cli("models", "--json")
    assert out[0]["space"]["active"] == next(iter(after)) and out[0]["space"]["pending"] is None
    code, out = cli("search", "a street with cars", "--json")
    assert code == 0 and out[0]["results"]
    # VideoBERT trains on the shipped encoder's features: refused, in words, not a crash.
    capsys.readouterr()
    code, _ = cli("train", "--steps", "1")
    assert code == 2 and "read by a vision-language model" in capsys.readouterr().err

    shipped_settings = _vision(monkeypatch, None)
    with Searcher(shipped_settings) as searcher:
        code, out = cli("models", "switch", "--json")
    assert code == 0 and out[0]["switched"], out
    assert not searcher.errors, searcher.errors
    back, widths = _library(settings)
    assert back == before and widths == {1280}  # the very space the library started in

    code, out = cli("models", "switch", "--json")
    assert code == 0 and not out[0]["switched"] and out[0]["active"] is None  # nothing to do


def test_a_crash_in_the_middle_of_a_switch_is_carried_on_by_the_next_run(
    cli, settings, footage, clip_folder, monkeypatch
):
    import indexer.clip_frames as clip_frames
    from services.model_switch import run_switch, switch_status

    code, _ = cli("ingest", *map(str, footage), "--wait", "--json")
    assert code == 0
    before, _ = _library(settings)
    clip_settings = _vision(monkeypatch, clip_folder)

    decoded: list[Path] = []
    real = clip_frames.clip_pictures

    def crash_on_the_second(path, bounds, s):  # type: ignore[no-untyped-def]
        if decoded:
            raise SystemExit("the process died")
        decoded.append(path)
        return real(path, bounds, s)

    monkeypatch.setattr(clip_frames, "clip_pictures", crash_on_the_second)
    with pytest.raises(SystemExit):
        run_switch(clip_settings)
    state = switch_status(clip_settings)
    assert (state["done"], state["total"]) == (1, 2) and state["decoding"]
    assert _library(settings)[0] == before  # search still reads the old space, whole
    code, out = cli("search", "a street with cars", "--json")
    assert code == 0 and out[0]["results"]

    monkeypatch.setattr(clip_frames, "clip_pictures", lambda *a: decoded.append(a[0]) or real(*a))
    result = run_switch(clip_settings)
    assert result is not None and result.swapped
    assert len(decoded) == 2  # the video done before the crash was not decoded again
    after, widths = _library(settings)
    assert len(after) == 1 and after != before and widths == {16}


def test_videos_indexed_during_a_switch_and_videos_whose_file_is_gone_arrive_too(
    cli, settings, footage, clip_folder, monkeypatch
):
    from services.model_switch import begin_switch, run_switch, switch_status

    first, second = footage
    code, _ = cli("ingest", str(first), "--wait", "--json")
    assert code == 0
    before, _ = _library(settings)
    clip_settings = _vision(monkeypatch, clip_folder)
    target = begin_switch(clip_settings)
    assert target is not None and target.vision == str(clip_folder)

    # Indexed now, it goes into the space search uses (the old one), and the switch takes it.
    code, out = cli("ingest", str(second), "--wait", "--json")
    assert code == 0 and out[0]["status"] == "succeeded"
    assert _library(settings)[0] == before
    assert switch_status(clip_settings)["total"] == 2

    first.unlink()  # its thumbnails stand in for its clips
    result = run_switch(clip_settings)
    assert result is not None and result.swapped
    after, widths = _library(settings)
    assert after == {target.name} and widths == {16}
    with session_scope(settings) as session:
        features = [unpack_f16_matrix(b) for b in session.scalars(select(Segment.clip_features))]
    assert all(np.isfinite(f).all() for f in features)


def test_a_switch_the_settings_no_longer_ask_for_is_given_up(
    cli, settings, footage, clip_folder, monkeypatch
):
    from model_lifecycle.spaces import pending_space
    from services.model_switch import begin_switch, run_switch, switch_status

    code, _ = cli("ingest", str(footage[0]), "--wait", "--json")
    assert code == 0
    before, _ = _library(settings)
    assert begin_switch(_vision(monkeypatch, clip_folder)) is not None
    assert pending_space(settings) is not None
    shipped = _vision(monkeypatch, None)  # changed back before the switch finished
    assert run_switch(shipped) is None
    assert pending_space(settings) is None and switch_status(shipped)["pending"] is None
    assert _library(settings)[0] == before
    code, out = cli("search", "a street with cars", "--json")
    assert code == 0 and out[0]["results"]
