"""People and faces: how many people and faces a segment's frames show and how large the largest
face is, with OpenCV's built-in detectors (no weights to fetch): the HOG people detector and the
frontal-face Haar cascades. Pure: RGB frames in, a PeopleSeen out; the detectors load at first
use, once per process.

Measured on 320x240 frames, one OpenCV thread, this 2-core machine: ~100 ms a frame for people
(the frame enlarged 3x), ~16 ms for faces. So a segment looks at one frame per 8 clips (12 s)
at the most, the middle ones (segment_people).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from videobert.registry import MODELS, InferenceModel, ModelMissing

# --- people: HOG + linear SVM (Dalal-Triggs), 64x128 windows --------------------------------------
# The window's person is ~96 pixels tall, so people 1/6 of a 240-pixel frame high (vtest.avi's
# walkers, 35-45 pixels) are only found in the frame enlarged 3x: enlarged 2x, HOG found 0-2 of
# 3-8 people in vtest frames. Frames are scaled to this width (3x for 320-wide thumbnails).
PEOPLE_WIDTH = 960
PYRAMID_STEP = 1.1  # 1.05 finds a little more for twice the time (210 vs 100 ms a frame)
# A window scoring under this (distance to the SVM plane) is no person. 0 false people on 34
# frames without anyone (shipped footage, opencv-doc and skimage photos); at 0.5, 11 in 9 frames
# (poles, a rocket, foliage, a cat's eye). True walkers in vtest.avi score 1.0-4.6.
MIN_PERSON_SCORE = 1.0
# Overlapping windows are one person when the middle of the windows (where the person stands:
# half the width, three quarters of the height) overlap by more than this: people walking side
# by side stay two, though their whole windows overlap.
PERSON_OVERLAP = 0.3

# --- faces: frontal Haar cascades ---------------------------------------------------------------
FACE_STEP = 1.2  # 1.1 took twice as long and gave a confident false face (3.5) on a sign photo
FACE_NEIGHBOURS = 3
# Smallest face: a share of the frame height, and never under the cascade's 24-pixel window.
MIN_FACE_SHARE = 0.08
MIN_FACE_PIXELS = 24
MIN_FACE_WIDTH = 320  # narrower frames are enlarged to this for faces
# Each face of the default cascade must be found again by the alt2 cascade (trained apart) in
# the box and its surroundings: that dropped all 4 false faces (a baboon's cheek, Starry Night,
# foliage, a pillar) of ~55 frames without faces and kept 13 of 14 frames with faces.
CONFIRM_NEIGHBOURS = 2
CONFIRM_MARGIN = 0.3

# --- segments -----------------------------------------------------------------------------------
FRAMES_PER_CHECK = 8  # one frame looked at per 8 clips (12 s) of a segment, at least one


@dataclass(frozen=True)
class PeopleSeen:
    """What frames show of people: ``people`` and ``faces`` are counts; ``largest_face`` is the
    height of the largest face box as a share of the frame's height (0 when no face)."""

    people: int
    faces: int
    largest_face: float


Box = tuple[int, int, int, int]  # x, y, width, height in the frame's pixels


class _Detectors:
    """HOG people detector and the two face cascades; calls are serialised (OpenCV's detector
    objects are not documented as safe to share between threads)."""

    def __init__(self) -> None:
        import cv2
        import cv2.data

        self.hog = cv2.HOGDescriptor()
        self.hog.setSVMDetector(np.asarray(cv2.HOGDescriptor.getDefaultPeopleDetector()))
        folder = cv2.data.haarcascades
        self.face = cv2.CascadeClassifier(folder + "haarcascade_frontalface_default.xml")
        self.confirm = cv2.CascadeClassifier(folder + "haarcascade_frontalface_alt2.xml")
        if self.face.empty() or self.confirm.empty():
            raise RuntimeError(f"OpenCV's face cascades are missing from {folder}")
        self.lock = threading.Lock()


class PeopleModels(InferenceModel):
    """The people slot: OpenCV's shipped HOG people detector and face cascades
    (VIDSEARCH_PEOPLE=false turns the stage off)."""

    slot = "people"
    setting = "VIDSEARCH_PEOPLE"

    @property
    def model_name(self) -> str:
        return "OpenCV HOG people + Haar face cascades (shipped)"

    def locate(self) -> Path:
        import cv2.data

        folder = Path(cv2.data.haarcascades)
        for name in ("haarcascade_frontalface_default.xml", "haarcascade_frontalface_alt2.xml"):
            if not (folder / name).is_file():
                raise ModelMissing(
                    slot=self.slot,
                    setting=self.setting,
                    value=name,
                    looked_in=folder,
                    reason="is missing from opencv's package (reinstall opencv-python-headless)",
                )
        return folder

    def _load(self, path: Path) -> _Detectors:
        import cv2

        # Small frames, and Whisper in a thread beside on 2 cores: threads only contend.
        cv2.setNumThreads(1)
        return _Detectors()


def detectors() -> _Detectors:
    """The process's detectors, made at the first call."""
    return MODELS.get("people", None, PeopleModels).load()  # type: ignore[no-any-return]


def _grey(rgb: np.ndarray) -> np.ndarray:
    import cv2

    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected an (h, w, 3) uint8 RGB frame, got {rgb.shape} {rgb.dtype}")
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def _resized(grey: np.ndarray, scale: float) -> np.ndarray:
    import cv2

    if scale == 1.0:
        return grey
    h, w = grey.shape
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(grey, size, interpolation=cv2.INTER_LINEAR if scale > 1 else cv2.INTER_AREA)


def _box(x: float, y: float, w: float, h: float, scale: float) -> Box:
    """A box found in a frame scaled by ``scale``, in the frame's own pixels."""
    return (round(x / scale), round(y / scale), round(w / scale), round(h / scale))


def find_people(rgb: np.ndarray) -> list[Box]:
    """Boxes of the people standing or walking in an RGB frame (HOG windows: a person's box is
    about twice their width and 4/3 their height)."""
    import cv2

    grey = _grey(rgb)
    scale = PEOPLE_WIDTH / grey.shape[1]
    big = _resized(grey, scale)
    det = detectors()
    with det.lock:
        windows, scores = det.hog.detectMultiScale(
            big, winStride=(8, 8), padding=(8, 8), scale=PYRAMID_STEP, groupThreshold=0
        )
    if len(windows) == 0:
        return []
    confidence = np.asarray(scores, dtype=np.float64).reshape(-1).tolist()
    # Suppress on where the person is in each window, not on the whole window.
    middles = [
        [int(x + w / 4), int(y + h / 8), int(w / 2), int(3 * h / 4)] for x, y, w, h in windows
    ]
    keep = cv2.dnn.NMSBoxes(middles, confidence, MIN_PERSON_SCORE, PERSON_OVERLAP)
    picked = (windows[i] for i in np.asarray(keep, dtype=int).reshape(-1))
    return [_box(x, y, w, h, scale) for x, y, w, h in picked]


def find_faces(rgb: np.ndarray) -> list[Box]:
    """Boxes of the frontal faces in an RGB frame that both cascades agree on."""
    grey = _grey(rgb)
    scale = max(1.0, MIN_FACE_WIDTH / grey.shape[1])
    grey = _resized(grey, scale)
    h, w = grey.shape
    smallest = max(MIN_FACE_PIXELS, int(MIN_FACE_SHARE * h))
    det = detectors()
    found: list[Box] = []
    with det.lock:
        boxes = det.face.detectMultiScale(
            grey, FACE_STEP, FACE_NEIGHBOURS, minSize=(smallest, smallest)
        )
        for x, y, bw, bh in boxes:
            m = int(CONFIRM_MARGIN * bw)
            x0, y0 = max(0, x - m), max(0, y - m)
            around = grey[y0 : min(h, y + bh + m), x0 : min(w, x + bw + m)]
            again = det.confirm.detectMultiScale(
                around,
                1.05,
                CONFIRM_NEIGHBOURS,
                minSize=(int(0.7 * bw), int(0.7 * bh)),
                maxSize=(int(1.4 * bw) + 1, int(1.4 * bh) + 1),
            )
            if len(again):
                found.append(_box(x, y, bw, bh, scale))
    return found


def frame_people(rgb: np.ndarray) -> PeopleSeen:
    """People and faces in one RGB frame. A face is a person too: a close-up shows a person the
    HOG detector (whole figures) cannot see."""
    faces = find_faces(rgb)
    people = find_people(rgb)
    largest = max((bh for _x, _y, _w, bh in faces), default=0) / rgb.shape[0]
    return PeopleSeen(
        people=max(len(people), len(faces)), faces=len(faces), largest_face=round(largest, 4)
    )


def frames_to_check(count: int) -> list[int]:
    """Which of a segment's ``count`` frames are looked at: one per FRAMES_PER_CHECK, at least
    one, each in the middle of its stretch (a 12 s segment's 8 clips: the 5th)."""
    if count <= 0:
        return []
    k = min(count, max(1, math.ceil(count / FRAMES_PER_CHECK)))
    return [int((i + 0.5) * count / k) for i in range(k)]


def _high(values: list[float]) -> float:
    """The highest value, or with three frames or more the second highest: the detectors miss
    far more than they invent (people turn, overlap, leave the frame), so a high value is the
    better guess of who is there; asking for it twice keeps one stray detection out."""
    ordered = sorted(values, reverse=True)
    return ordered[1] if len(ordered) >= 3 else ordered[0]


def segment_people(frames: Sequence[np.ndarray]) -> PeopleSeen:
    """People and faces a segment's RGB frames (in time order) show; see frames_to_check and
    _high for which frames and how they combine."""
    seen = [frame_people(frames[i]) for i in frames_to_check(len(frames))]
    if not seen:
        return PeopleSeen(people=0, faces=0, largest_face=0.0)
    return PeopleSeen(
        people=int(_high([s.people for s in seen])),
        faces=int(_high([s.faces for s in seen])),
        largest_face=_high([s.largest_face for s in seen]),
    )
