"""On-screen text (indexer/screen_text.py) on real photos, scaled to the pipeline's 320-pixel-wide
thumbnails the way the pipeline scales them (FFmpeg's scaler through PyAV)."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import require, require_module

OPENCV_DOC = Path("/usr/share/doc/opencv-doc/examples")
NOTICE = OPENCV_DOC / "text" / "scenetext01.jpg"  # a street sign: NOTICE / DOUBLE PARKING ...
SPORTS = OPENCV_DOC / "text" / "scenetext02.jpg"  # a road sign: Sports Centre, Car Parks ...
LEUVEN = OPENCV_DOC / "data" / "leuvenA.jpg"  # a street of houses, no writing
AERIAL = OPENCV_DOC / "data" / "aero1.jpg"  # a town from the air
VTEST = OPENCV_DOC / "data" / "vtest.avi"  # people walking past a sign too small to read

pytestmark = pytest.mark.real_models


def thumb(rgb: np.ndarray, width: int = 320) -> np.ndarray:
    """The picture at thumbnail width, aspect kept, as indexer/media.py makes SampledFrame's."""
    import av

    rgb = np.ascontiguousarray(rgb[:, :, :3])
    height = max(2, round(width * rgb.shape[0] / rgb.shape[1] / 2) * 2)
    frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
    return frame.reformat(width=width, height=height, format="rgb24").to_ndarray()


def photo(path: Path, width: int = 320) -> np.ndarray:
    from PIL import Image

    require(path.is_file(), f"{path} is missing: scripts/bootstrap.sh installs opencv-doc")
    return thumb(np.asarray(Image.open(path).convert("RGB")), width)


def squashed(text: list[str]) -> list[str]:
    """Lines without spaces or case: the recogniser often joins words ('ATALLTIMES')."""
    return ["".join(line.split()).casefold() for line in text]


@pytest.fixture(scope="module")
def st():
    require_module(
        "rapidocr_onnxruntime", "scripts/bootstrap.sh installs it (pip install --no-deps)"
    )
    from indexer import screen_text

    return screen_text


@pytest.fixture
def calls(st, monkeypatch):
    """How often the detector and the recogniser run (and on how many lines)."""
    engine = st.engine()
    counts = {"detect": 0, "recognize": 0, "lines": 0}
    detect, recognize = engine.detect, engine.recognize

    def counted_detect(bgr):
        counts["detect"] += 1
        return detect(bgr)

    def counted_recognize(crops):
        counts["recognize"] += 1
        counts["lines"] += len(crops)
        return recognize(crops)

    monkeypatch.setattr(engine, "detect", counted_detect)
    monkeypatch.setattr(engine, "recognize", counted_recognize)
    return counts


def test_the_words_of_a_street_sign_are_read_in_reading_order(st):
    lines = squashed(st.read_frame_text(photo(NOTICE)))
    assert lines[:4] == ["notice", "double", "parking", "prohibited"]
    assert lines[4] == "atalltimes"


def test_a_road_sign_reads_line_by_line_with_confident_reads_only(st):
    boxes = st.read_frame_boxes(photo(SPORTS))
    lines = squashed([b.text for b in boxes])
    assert {"sportscentre", "conferencecentre", "carparks"} <= set(lines)
    assert all(b.confidence >= st.MIN_CONFIDENCE for b in boxes)
    tops = [min(y for _x, y in b.corners) for b in boxes]
    assert tops == sorted(tops)


def test_a_stored_jpeg_thumbnail_reads_like_the_frame_it_came_from(st):
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(photo(NOTICE)).save(buffer, format="JPEG", quality=82)  # as indexer/sample.py
    decoded = np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))
    assert squashed(st.read_frame_text(decoded))[:4] == [
        "notice",
        "double",
        "parking",
        "prohibited",
    ]


def test_a_tiny_frame_is_enlarged_before_detection_and_still_reads(st):
    lines = squashed(st.read_frame_text(photo(NOTICE, width=160)))
    assert {"notice", "double", "parking"} <= set(lines)


def test_frames_without_text_read_nothing_and_never_reach_the_recogniser(st, calls):
    import av

    require(VTEST.is_file(), f"{VTEST} is missing: scripts/bootstrap.sh installs opencv-doc")
    with av.open(str(VTEST)) as container:
        walkers = next(container.decode(video=0)).to_ndarray(format="rgb24")
    skimage_data = require_module("skimage.data", "scripts/bootstrap.sh installs scikit-image")
    frames = [
        photo(LEUVEN),
        photo(AERIAL),
        thumb(skimage_data.astronaut()),
        thumb(skimage_data.coffee()),
        thumb(walkers),
    ]
    assert [st.read_frame_text(f) for f in frames] == [[]] * len(frames)
    assert calls["detect"] == len(frames) and calls["recognize"] == 0


def test_a_slide_held_over_a_segment_is_read_once(st, calls):
    from PIL import Image

    sign = photo(NOTICE)
    # The same picture as a video's frames carry it: re-encoded, a little different each time.
    held = []
    for quality in (70, 75, 80, 85, 90, 95, 70, 80):
        buffer = io.BytesIO()
        Image.fromarray(sign).save(buffer, format="JPEG", quality=quality)
        held.append(np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")))
    lines = st.read_segment_text(held)
    assert squashed(lines)[:4] == ["notice", "double", "parking", "prohibited"]
    assert len(lines) == len(set(squashed(lines)))
    assert calls["detect"] == 1 and calls["recognize"] == 1


def test_a_slide_change_is_read_and_lines_keep_their_first_order(st, calls):
    notice, sports = photo(NOTICE), photo(SPORTS)
    lines = squashed(st.read_segment_text([notice] * 3 + [sports] * 3 + [notice] * 2))
    assert lines.index("notice") < lines.index("sportscentre")
    assert lines.count("notice") == 1
    # notice, sports, notice again: three distinct pictures, three reads.
    assert calls["detect"] == 3 and calls["recognize"] == 3


def test_a_sign_that_stays_while_the_scene_around_it_moves_is_read_once(st, calls):
    sign = photo(NOTICE)
    frames = []
    for step in range(6):
        frame = sign.copy()
        x = 190 + 20 * step  # someone walking across the lower right, away from the sign
        frame[170:235, x : x + 22] = (200, 40, 40)
        frames.append(frame)
    assert not st.looks_alike(frames[0], frames[1])
    assert "notice" in squashed(st.read_segment_text(frames))
    assert calls["detect"] == 6 and calls["recognize"] == 1


def test_the_recogniser_reads_at_most_a_few_frames_of_a_segment(st, calls):
    notice, sports = photo(NOTICE), photo(SPORTS)
    st.read_segment_text([notice, sports] * 4)  # text changing at every clip
    assert calls["recognize"] == st.MAX_READ_FRAMES


def test_an_empty_segment_reads_nothing(st):
    assert st.read_segment_text([]) == []


def test_a_frame_that_is_not_rgb_is_refused_with_its_shape(st):
    with pytest.raises(ValueError, match=r"\(240, 320\)"):
        st.read_frame_text(np.zeros((240, 320), np.uint8))


def test_the_models_load_once_for_threads_that_ask_together(st):
    got: list[object] = []
    threads = [threading.Thread(target=lambda: got.append(st.engine())) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 4 and all(e is got[0] for e in got)


def test_reading_prints_nothing(st, capfd):
    st.read_frame_text(photo(NOTICE))
    out, err = capfd.readouterr()
    assert out == "" and err == ""
