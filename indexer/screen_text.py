"""On-screen text: the words a segment's frames show (signs, slides, captions), read with the
PP-OCRv4 detector and recogniser that ship inside the rapidocr-onnxruntime wheel, on onnxruntime,
offline. Pure: RGB frames in, text lines out; the models load at first use, once per process.

Measured on 320-pixel-wide frames, one onnxruntime thread, this 2-core machine: the detector
takes ~15 ms a frame, the recogniser ~15 ms a line, and only frames with text boxes reach it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.third_party import quiet_third_parties
from videobert.registry import MODELS, InferenceModel, ModelMissing

# A read whose recogniser confidence (the mean of its characters' probabilities) is below this
# is dropped. On ~100 frames without text (the shipped footage, opencv-doc and skimage photos)
# the detector at native size found no text box at all; enlarged 2x it found boxes in 23 of
# them, read at 0.68 at best ('O' in skimage's coffee) and mostly under 0.5. The signs of
# opencv-doc's scene-text photos read at 0.86-1.00. 0.8 sits between, with room either side.
MIN_CONFIDENCE = 0.8
# A read needs two letters or digits: single characters are what the false reads above were
# ('O', '7', '二'), and one is no help to a search anyway.
MIN_CHARACTERS = 2
# Frames narrower than this are enlarged to it before detection (the detector misses text a
# few pixels high). 320-wide thumbnails are read as they are: enlarging them 2x found three
# more small words on six sign photos ('GM125', 'the', a second far 'NO PARKING') but costs
# 5.5x the detection (13 -> 72 ms a frame) and makes false boxes on a quarter of the frames.
MIN_WIDTH = 320
# Frames larger than this (long side) are shrunk for detection, cropped at full size for reading.
MAX_DETECT_SIDE = 640
MAX_LINES_PER_FRAME = 8  # the tallest boxes: a page of small print is not read line by line
MAX_READ_FRAMES = 3  # frames a segment sends to the recogniser, at most (scrolling credits)
# Two frames "look alike" when under this share of their 32x24 grey cells differ by more than
# SAME_CELL_LEVELS: a held slide (codec noise moves a cell by a few levels) is read once, while a
# caption changing under a still picture changes a row of cells. Consecutive clip frames of the
# still-camera vtest.avi differ in 2-10% of cells (people walk), so they are looked at again;
# 8 of 10 of the wind-stirred tree.avi's look alike.
SAME_CELL_LEVELS = 24
SAME_CELL_SHARE = 0.005
# A frame whose text boxes sit where the last read frame's did (IoU) with the same pixels in them
# (mean difference, 0-255) shows the same text: it is not read again.
SAME_BOX_IOU = 0.5
SAME_TEXT_LEVELS = 10.0
ORT_THREADS = 1  # the pipeline runs Whisper in a thread beside on 2 cores; 2 threads were slower


@dataclass(frozen=True)
class TextBox:
    """One read line: what it says, and its corners (clockwise from the top left) in pixels."""

    corners: tuple[tuple[float, float], ...]
    text: str
    confidence: float


class _Engine:
    """The rapidocr detector and recogniser (its angle classifier is not loaded: video text is
    upright). Calls are serialised: rapidocr keeps per-call state on its objects."""

    def __init__(self) -> None:
        quiet_third_parties()  # onnxruntime: no telemetry files
        from rapidocr_onnxruntime.ch_ppocr_det import TextDetector
        from rapidocr_onnxruntime.ch_ppocr_rec import TextRecognizer
        from rapidocr_onnxruntime.main import DEFAULT_CFG_PATH
        from rapidocr_onnxruntime.utils import read_yaml, update_model_path

        # Its loggers print at INFO and DEBUG (provider notes) through a handler of their own.
        for name in ("RapidOCR", "OrtInferSession"):
            logging.getLogger(name).setLevel(logging.WARNING)
        config = update_model_path(read_yaml(DEFAULT_CFG_PATH))
        for part in ("Det", "Rec"):
            config[part].update(
                intra_op_num_threads=ORT_THREADS, inter_op_num_threads=1, use_cuda=False
            )
        # "max": a frame under 960 pixels is detected at its own size (rapidocr replaces
        # limit_side_len by 960 for those), not enlarged to 736 on its short side ("min").
        config["Det"]["limit_type"] = "max"
        self._detector = TextDetector(config["Det"])
        self._recognizer = TextRecognizer(config["Rec"])
        self._lock = threading.Lock()

    def detect(self, bgr: np.ndarray) -> list[np.ndarray]:
        """Text line boxes, each (4, 2) float32 corners clockwise from the top left."""
        with self._lock:
            boxes, _elapsed = self._detector(bgr)
        return [] if boxes is None or len(boxes) == 0 else [b.astype(np.float32) for b in boxes]

    def recognize(self, crops: list[np.ndarray]) -> list[tuple[str, float]]:
        """(text, confidence) per crop (BGR line images)."""
        with self._lock:
            results, _elapsed = self._recognizer(crops)
        return [(str(text), float(score)) for text, score, *_ in results]


class ScreenTextModels(InferenceModel):
    """The on-screen text slot: PP-OCRv4's detector and recogniser, shipped inside the
    rapidocr-onnxruntime wheel (VIDSEARCH_SCREEN_TEXT=false turns the stage off)."""

    slot = "on-screen text"
    setting = "VIDSEARCH_SCREEN_TEXT"

    @property
    def model_name(self) -> str:
        return "PP-OCRv4 detection + recognition (shipped in rapidocr-onnxruntime)"

    def locate(self) -> Path:
        from importlib.util import find_spec

        spec = find_spec("rapidocr_onnxruntime")
        folder = Path(spec.origin).parent / "models" if spec and spec.origin else Path("?")
        if not any(folder.glob("*det*.onnx")) or not any(folder.glob("*rec*.onnx")):
            raise ModelMissing(
                slot=self.slot,
                setting=self.setting,
                value="PP-OCRv4",
                looked_in=folder,
                reason="is missing (reinstall rapidocr-onnxruntime)",
            )
        return folder

    def _load(self, path: Path) -> _Engine:
        import cv2

        cv2.setNumThreads(1)  # its resizes and warps: tiny images, threads cost more
        return _Engine()


def engine() -> _Engine:
    """The process's OCR models, loaded at the first call (~0.3 s)."""
    return MODELS.get("on-screen text", None, ScreenTextModels).load()  # type: ignore[no-any-return]


def _check(rgb: np.ndarray) -> None:
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected an (h, w, 3) uint8 RGB frame, got {rgb.shape} {rgb.dtype}")


def _crop(image: np.ndarray, corners: np.ndarray) -> np.ndarray:
    """The line straightened out of ``image`` (rapidocr's own crop: a perspective warp)."""
    import cv2

    width = int(
        max(np.linalg.norm(corners[0] - corners[1]), np.linalg.norm(corners[2] - corners[3]))
    )
    height = int(
        max(np.linalg.norm(corners[0] - corners[3]), np.linalg.norm(corners[1] - corners[2]))
    )
    width, height = max(width, 1), max(height, 1)
    target = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float32)
    warp = cv2.getPerspectiveTransform(corners.astype(np.float32), target)
    line = cv2.warpPerspective(
        image, warp, (width, height), borderMode=cv2.BORDER_REPLICATE, flags=cv2.INTER_CUBIC
    )
    return np.rot90(line) if height >= 1.5 * width else line  # vertical text


def _reading_order(boxes: list[np.ndarray]) -> list[np.ndarray]:
    """Top to bottom; boxes on one line (tops within half a line's height) left to right."""
    rows: list[list[np.ndarray]] = []
    for box in sorted(boxes, key=lambda b: float(b[:, 1].min())):
        height = float(box[:, 1].max() - box[:, 1].min())
        if rows and abs(float(rows[-1][0][:, 1].min()) - float(box[:, 1].min())) < height / 2:
            rows[-1].append(box)
        else:
            rows.append([box])
    return [b for row in rows for b in sorted(row, key=lambda b: float(b[:, 0].min()))]


def _clean(text: str) -> str:
    return " ".join(text.split())


def _readable(text: str, confidence: float) -> bool:
    return confidence >= MIN_CONFIDENCE and sum(c.isalnum() for c in text) >= MIN_CHARACTERS


def read_frame_boxes(rgb: np.ndarray) -> list[TextBox]:
    """The text lines of one RGB frame that read confidently, in reading order, with where they
    are (corners in the frame's pixels)."""
    _check(rgb)
    boxes, source, to_source = _detect(rgb)
    return _recognize(boxes, source, to_source)


def read_frame_text(rgb: np.ndarray) -> list[str]:
    """The text lines one RGB frame shows that read confidently, in reading order."""
    return [box.text for box in read_frame_boxes(rgb)]


def _detect(rgb: np.ndarray) -> tuple[list[np.ndarray], np.ndarray, float]:
    """Boxes in frame pixels; the image to crop lines from (the larger of the frame and what the
    detector saw) and the factor from frame pixels to that image's."""
    import cv2

    bgr = np.ascontiguousarray(rgb[:, :, ::-1])  # the models were trained on BGR
    h, w = bgr.shape[:2]
    scale = 1.0
    if w < MIN_WIDTH:
        scale = MIN_WIDTH / w
    elif max(h, w) > MAX_DETECT_SIDE:
        scale = MAX_DETECT_SIDE / max(h, w)
    if scale == 1.0:
        return engine().detect(bgr), bgr, 1.0
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    resized = cv2.resize(bgr, size, interpolation=cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA)
    boxes = [b / scale for b in engine().detect(resized)]
    return (boxes, resized, scale) if scale > 1 else (boxes, bgr, 1.0)


def _recognize(boxes: list[np.ndarray], source: np.ndarray, to_source: float) -> list[TextBox]:
    if not boxes:
        return []  # the recogniser runs only where the detector found text
    if len(boxes) > MAX_LINES_PER_FRAME:
        boxes = sorted(boxes, key=lambda b: float(np.ptp(b[:, 1])), reverse=True)
        boxes = boxes[:MAX_LINES_PER_FRAME]
    boxes = _reading_order(boxes)
    reads = engine().recognize([_crop(source, b * to_source) for b in boxes])
    found = []
    for box, (text, confidence) in zip(boxes, reads, strict=True):
        text = _clean(text)
        if _readable(text, confidence):
            corners = tuple((float(x), float(y)) for x, y in box)
            found.append(TextBox(corners=corners, text=text, confidence=confidence))
    return found


def _signature(rgb: np.ndarray) -> np.ndarray:
    import cv2

    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    return cv2.resize(grey, (32, 24), interpolation=cv2.INTER_AREA).astype(np.int16)


def looks_alike(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two RGB frames show the same picture, by a cheap grey 32x24 difference."""
    changed = np.abs(_signature(a) - _signature(b)) > SAME_CELL_LEVELS
    return float(changed.mean()) <= SAME_CELL_SHARE


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    ax0, ay0, ax1, ay1 = a[:, 0].min(), a[:, 1].min(), a[:, 0].max(), a[:, 1].max()
    bx0, by0, bx1, by1 = b[:, 0].min(), b[:, 1].min(), b[:, 0].max(), b[:, 1].max()
    inter = max(0.0, min(ax1, bx1) - max(ax0, bx0)) * max(0.0, min(ay1, by1) - max(ay0, by0))
    union = (ax1 - ax0) * (ay1 - ay0) + (bx1 - bx0) * (by1 - by0) - inter
    return float(inter / union) if union > 0 else 0.0


def _same_text(
    boxes: list[np.ndarray], rgb: np.ndarray, read_boxes: list[np.ndarray], read_rgb: np.ndarray
) -> bool:
    """Whether a frame's text boxes are where those of the frame last read were, with the same
    pixels inside them (a street scene with people walking past a sign)."""
    if len(boxes) != len(read_boxes) or rgb.shape != read_rgb.shape:
        return False
    if not all(max(_iou(b, r) for r in read_boxes) >= SAME_BOX_IOU for b in boxes):
        return False
    h, w = rgb.shape[:2]
    for box in boxes:
        x0, y0 = (max(0, int(v)) for v in box.min(axis=0))
        x1, y1 = int(min(w, box[:, 0].max() + 1)), int(min(h, box[:, 1].max() + 1))
        now = rgb[y0:y1, x0:x1].astype(np.int16)
        then = read_rgb[y0:y1, x0:x1].astype(np.int16)
        if now.size == 0 or float(np.abs(now - then).mean()) > SAME_TEXT_LEVELS:
            return False
    return True


def read_segment_text(frames: Sequence[np.ndarray]) -> list[str]:
    """The text lines a segment's RGB frames (in time order) show, each once, in the order they
    were first read (reading order within a frame).

    Only distinct frames are looked at: one that looks like the frame last looked at is skipped
    (a slide held for the whole segment is detected and read once). A frame whose text boxes and
    their pixels match the frame last read is not read again, and at most MAX_READ_FRAMES frames
    go to the recogniser.
    """
    lines: list[str] = []
    seen: set[str] = set()
    looked: np.ndarray | None = None
    read: tuple[list[np.ndarray], np.ndarray] | None = None
    reads = 0
    for rgb in frames:
        _check(rgb)
        if looked is not None and looks_alike(rgb, looked):
            continue
        if reads >= MAX_READ_FRAMES:
            break
        looked = rgb
        boxes, source, to_source = _detect(rgb)
        if not boxes or (read is not None and _same_text(boxes, rgb, *read)):
            continue
        reads += 1
        read = (boxes, rgb)
        for box in _recognize(boxes, source, to_source):
            key = box.text.casefold()
            if key not in seen:
                seen.add(key)
                lines.append(box.text)
    return lines
