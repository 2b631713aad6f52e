"""Visual tags benchmark: are the tags that moments, summaries and the lexical signal show right,
and how specific are they? The classifier's top classes (what vidsearch showed before hedging)
beside hedged tags (videobert/hedging.py) at several confidences, on the dev set's tune and
test parts side by side, in one run.

Each dev-set video (each shot, for montages) lists what it shows, as names of nodes of the
ImageNet/WordNet hierarchy (TRUTH). A tag is right when its node is one of those, above one
("dog" for a Pekingese) or below one (a breed under "dog": the labels do not say which breed).
Videos whose content has no node (a painting, the moon, coins) have no truth: every tag shown
there is wrong, and showing none is right.

    .venv/bin/python bench/tags.py [--devset DIR] [--home DIR]

Prints, per method and part: tags shown per segment, the share of them that are right, the share
of labelled segments with at least one right tag, the share of unlabelled segments given a tag
anyway, and the specificity of the right tags (bits: log2 of 1000 over the classes under the
tag; a single class is 10 bits). The confidence is chosen on the tune part: the lowest whose
precision reaches TARGET_PRECISION (most specific at that accuracy, as in Deng et al. 2012).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.devset import PARTS, VIDEO_PARTS, build_devset  # noqa: E402
from core.settings import Settings  # noqa: E402
from videobert.options import model_options  # noqa: E402

CONFIDENCES = (0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)
TARGET_PRECISION = 0.8
OLD_LIMIT, OLD_MIN = 3, 0.08  # the classifier's top 3 classes at 8 % or more: the old tags

# What each video (or montage shot) shows, as hierarchy node names; [] where nothing it shows
# is among ImageNet's classes or their ancestors. Narrated clips are left out: their pictures
# are incidental (the voice is what is asked about).
TRUTH: dict[str, list[str]] = {
    "cat": ["domestic cat"],
    "espresso": ["espresso", "cup", "coffee mug", "plate"],
    "rocket": ["rocket", "missile"],
    "astronaut": ["person"],
    "cameraman": ["person", "tripod"],
    "hopper": ["person", "military uniform"],
    "galaxies": [],
    "butterfly": ["butterfly"],
    "mandrill": ["monkey"],
    "starry_night": [],
    "football": ["person", "soccer ball"],
    "aerial": ["building"],
    "graffiti": [],
    "cards": [],
    "aloe": ["pot", "vascular plant"],
    "coins": [],
    "citrus": ["lemon", "orange", "edible fruit"],
    "orange": ["orange"],
    "motorbike": ["motorcycle"],
    "moon": [],
    "basketball": ["person", "basketball"],
    "car_rear": ["car"],
    "sudoku": ["crossword puzzle"],
    "groceries": ["packet", "carton"],
    "shapes": [],
    "abbey": ["building"],
    "cat_mug": ["domestic cat", "coffee mug"],
    "bricks": [],
    "printed_page": [],
    "animals/squirrel": ["squirrel"],
    "animals/dog": ["dog"],
    "animals/fish": ["fish"],
    "town/street": ["building"],
    "town/palace": ["palace", "building"],
    "table/apple": ["apple"],
    "table/circuit": [],
    "table/candies": [],
    "bikes": ["car", "bicycle", "person", "cab"],
    "bunny": ["rabbit", "hare"],
    "carphone": ["person", "car"],
    "city": ["building"],
    "pedestrians": ["person"],
    "tree": [],
    "megamind": ["person"],
}


@dataclass
class Segment:
    truth_key: str
    part: str
    probs: np.ndarray


def node_ids(names: Sequence[str]) -> set[int]:
    from videobert.hedging import load_hierarchy

    h = load_hierarchy()
    lookup: dict[str, list[int]] = {}
    for i, n in enumerate(h.names):
        lookup.setdefault(n.lower(), []).append(i)
    raw = _raw_names()
    for i, n in enumerate(raw):
        lookup.setdefault(n.lower(), []).append(i)
    out: set[int] = set()
    for n in names:
        if n.lower() not in lookup:
            raise SystemExit(f"TRUTH names {n!r}, which is no node of the hierarchy")
        out |= set(lookup[n.lower()])
    return out


def _raw_names() -> list[str]:
    """Each node's WordNet lemma (the hierarchy shows plainer names for some)."""
    import json
    from importlib import resources

    raw = json.loads(
        (resources.files("videobert") / "data" / "imagenet_hierarchy.json").read_text("utf-8")
    )
    return [str(n["name"]) for n in raw["nodes"].values()]


def right_tags(truth: set[int]) -> set[int]:
    """Nodes counted right for a truth: the truth nodes, everything above and below them."""
    from videobert.hedging import load_hierarchy

    h = load_hierarchy()
    ok = set(truth)
    for t in truth:
        ok |= h.ancestors[t]
    for i, above in enumerate(h.ancestors):
        if above & truth:
            ok.add(i)
    return ok


def segments_of(settings: Settings, devset) -> list[Segment]:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from core.db import session_scope
    from core.models import Segment as SegmentRow
    from core.models import Video
    from model_lifecycle.train import library_segments
    from videobert.embedder import shared_encoders
    from videobert.picture_words import segment_probs

    lib = library_segments(settings)
    frames, _ = shared_encoders(model_options(settings))
    probs = segment_probs(frames, [s.clips for s in lib])
    with session_scope(settings) as s:
        names = {v.id: Path(v.source_path).name for v in s.scalars(select(Video))}
        times = {(x.video_id, x.index): (x.start, x.end) for x in s.scalars(select(SegmentRow))}
    out = []
    for seg, p in zip(lib, probs, strict=True):
        entry = devset.entries[names[seg.video_id]]
        key = entry.key
        if entry.shots and len(entry.shots) > 1:  # a montage: the shot holding the middle
            start, end = times[(seg.video_id, seg.index)]
            mid = (start + end) / 2
            shot = next((k for s0, e0, k in entry.shots if s0 <= mid < e0), entry.shots[-1][2])
            key = f"{entry.key}/{shot}"
        if key in TRUTH:
            out.append(Segment(key, VIDEO_PARTS[entry.key], p))
    return out


def score(
    segments: Sequence[Segment], tagger: Callable[[np.ndarray], list[str]]
) -> dict[str, float]:
    from videobert.hedging import load_hierarchy

    h = load_hierarchy()
    by_name: dict[str, list[int]] = {}
    for i, n in enumerate(h.names):
        by_name.setdefault(n, []).append(i)
    shown = right = labelled = labelled_hit = unlabelled = unlabelled_tagged = 0
    bits: list[float] = []
    truths = {k: node_ids(v) for k, v in TRUTH.items()}
    ok_for = {k: right_tags(v) for k, v in truths.items()}
    for seg in segments:
        tags = tagger(seg.probs)
        ok = ok_for[seg.truth_key]
        hits = [t for t in tags if any(i in ok for i in by_name[t])]
        shown += len(tags)
        right += len(hits)
        bits += [max(float(h.bits[i]) for i in by_name[t]) for t in hits]
        if truths[seg.truth_key]:
            labelled += 1
            labelled_hit += bool(hits)
        else:
            unlabelled += 1
            unlabelled_tagged += bool(tags)
    n = max(1, len(segments))
    return {
        "tags/seg": shown / n,
        "precision": right / shown if shown else float("nan"),
        "hit": labelled_hit / max(1, labelled),
        "tagged anyway": unlabelled_tagged / max(1, unlabelled),
        "bits": float(np.mean(bits)) if bits else float("nan"),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--devset", type=Path, default=Path.home() / ".cache" / "vidsearch-devset")
    ap.add_argument("--home", type=Path, default=None, help="an indexed dev set to reuse")
    args = ap.parse_args()

    from bench.retrieval import index_devset
    from videobert.bridge import top_tags
    from videobert.hedging import hedged_tags
    from videobert.locations import imagenet_class_names

    devset = build_devset(args.devset)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(home=args.home or Path(tmp) / "home", summaries_at_index=False)
        index_devset(devset, settings)
        segments = segments_of(settings, devset)
    names = imagenet_class_names()
    methods: dict[str, Callable[[np.ndarray], list[str]]] = {
        f"top {OLD_LIMIT} classes >= {OLD_MIN:g} (before)": lambda p: top_tags(
            p, names, limit=OLD_LIMIT, min_probability=OLD_MIN
        )
    }
    for c in CONFIDENCES:
        methods[f"hedged, confidence {c:g}"] = lambda p, c=c: hedged_tags(
            p, limit=OLD_LIMIT, min_probability=c
        )
    counts = {p: sum(s.part == p for s in segments) for p in PARTS}
    print(f"segments with labels: {counts}")
    cols = ("tags/seg", "precision", "hit", "tagged anyway", "bits")
    print("each cell: tune / test part (quote the test part)")
    print(f"{'method':36} " + " ".join(f"{c:>15}" for c in cols))
    results = {}
    for label, tagger in methods.items():
        r = {p: score([s for s in segments if s.part == p], tagger) for p in PARTS}
        results[label] = r
        print(f"{label:36} " + " ".join(f"{r['tune'][c]:7.2f}/{r['test'][c]:7.2f}" for c in cols))
    chosen = [
        c
        for c in CONFIDENCES
        if results[f"hedged, confidence {c:g}"]["tune"]["precision"] >= TARGET_PRECISION
    ]
    if chosen:
        best = min(chosen)
        test = results[f"hedged, confidence {best:g}"]["test"]
        print(
            f"\nchosen on the tune part: confidence {best:g} (lowest with precision >= "
            f"{TARGET_PRECISION:g}); test part: precision {test['precision']:.2f}, "
            f"hit {test['hit']:.2f}, tagged anyway {test['tagged anyway']:.2f}, "
            f"{test['bits']:.1f} bits"
        )
    else:
        print(f"\nno confidence reaches precision {TARGET_PRECISION:g} on the tune part")


if __name__ == "__main__":
    main()
