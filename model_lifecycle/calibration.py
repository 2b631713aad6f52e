"""Each model's fusion calibration, kept with the model: where each signal's raw score starts to
mean something (floor) and where it is certain (ceiling), per vector space.

Scores of two models are not comparable: a trained VideoBERT spreads cosines differently from
the zero-shot one, so it must not inherit the zero-shot model's floors. Training writes its
model's calibration (``VIDSEARCH_HOME/models/calibration/<digest of the name>.json``); search
reads the calibration of whichever model embeds its queries (``calibration_for``). Models with
none recorded (zero-shot VideoBERT, the bridge) use the development set's calibration below.

A calibration is plain data here, ``{signal: {"weight", "floor", "ceiling"}}``; search turns it
into ranking math (search/fusion.py).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

CalibrationData = dict[str, dict[str, float]]

# Calibrated with the zero-shot VideoBERT embedder on the development set's tune part only
# (`bench/search.py --calibrate`, bench/devset.py: PARTS, spec version 3); the test part reports
# it. Unrelated clips sit near cosine 0, matches at 0.4-0.55.
ZERO_SHOT: CalibrationData = {
    "text": {"weight": 1.0, "floor": 0.35, "ceiling": 0.75},
    "video": {"weight": 1.0, "floor": 0.30, "ceiling": 0.60},
    "lexical": {"weight": 0.6, "floor": 0.0, "ceiling": 1.0},
    "concept": {"weight": 0.5, "floor": 0.05, "ceiling": 0.5},
    "looks": {"weight": 0.25, "floor": 0.2, "ceiling": 1.0},
    "people": {"weight": 0.25, "floor": 0.2, "ceiling": 1.0},
}
# The fused score below which a result is weak (shown after the strong ones, flagged), chosen
# with the floors. It is in units of evidence, which every model's floors and ceilings map onto
# alike, so a trained model keeps it (VIDSEARCH_RELEVANCE_THRESHOLD overrides it for every
# model). It only labels now, so it can be strict: 0.4 was chosen over 0.05 when weak results
# stopped being hidden (issue 17).
ZERO_SHOT_THRESHOLD = 0.4
# Signals whose scores do not depend on the embedding model (the words of captions, the frame
# classifier's beliefs): a calibration recorded before one of them existed takes ZERO_SHOT's.
MODEL_FREE = ("lexical", "concept", "looks", "people")
# Query by example compares like with like (video to video, caption to caption): similarities
# run much higher than text-to-video ones, so the evidence starts higher too.
EXAMPLE: CalibrationData = {
    "text": {"weight": 1.0, "floor": 0.55, "ceiling": 0.95},
    "video": {"weight": 1.0, "floor": 0.60, "ceiling": 0.98},
}
CALIBRATION_DIR = Path("models") / "calibration"  # under VIDSEARCH_HOME
# The share of unrelated (query, segment) pairs a floor must stay above; see shifted_calibration.
NULL_QUANTILE = 0.99


def _path(home: Path, model_name: str) -> Path:
    digest = hashlib.sha256(model_name.encode()).hexdigest()[:24]
    return Path(home) / CALIBRATION_DIR / f"{digest}.json"


def save_calibration(
    home: Path,
    model_name: str,
    data: Mapping[str, Mapping[str, float]],
    *,
    threshold: float = ZERO_SHOT_THRESHOLD,
) -> Path:
    """Record a model's calibration and cut-off (atomically; the newest recording wins)."""
    path = _path(home, model_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    body = {
        "model": model_name,
        "signals": {k: dict(v) for k, v in data.items()},
        "threshold": float(threshold),
    }
    tmp.write_text(json.dumps(body, indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def _recorded(home: Path, model_name: str) -> dict[str, Any] | None:
    path = _path(home, model_name)
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path} is not a readable calibration: {exc}") from exc
    if body.get("model") != model_name:
        raise ValueError(f"{path} calibrates {body.get('model')!r}, not {model_name!r}")
    return dict(body)


def calibration_for(home: Path, model_name: str) -> CalibrationData:
    """The calibration recorded for a model, else the zero-shot development-set calibration."""
    body = _recorded(home, model_name)
    if body is None:
        return {k: dict(v) for k, v in ZERO_SHOT.items()}
    out = {k: {f: float(x) for f, x in v.items()} for k, v in body["signals"].items()}
    for signal in MODEL_FREE:
        out.setdefault(signal, dict(ZERO_SHOT[signal]))
    return out


def threshold_for(home: Path, model_name: str) -> float:
    """The cut-off recorded with a model's calibration, else the zero-shot one (also for a
    calibration recorded before cut-offs were kept with it)."""
    body = _recorded(home, model_name)
    if body is None or "threshold" not in body:
        return ZERO_SHOT_THRESHOLD
    return float(body["threshold"])


def null_quantile(queries: np.ndarray, items: np.ndarray, *, exclude: np.ndarray | None) -> float:
    """The NULL_QUANTILE of cosines between query vectors and item vectors they do not belong
    to (``exclude[i, j]`` true where query i belongs to item j): how high chance alone goes."""
    scores = np.asarray(queries, np.float32) @ np.asarray(items, np.float32).T
    if exclude is not None:
        scores = scores[~exclude]
    scores = scores[np.isfinite(scores)]
    return float(np.quantile(scores, NULL_QUANTILE)) if scores.size else 0.0


def shifted_calibration(
    base: Mapping[str, Mapping[str, float]],
    base_null: Mapping[str, float],
    new_null: Mapping[str, float],
) -> CalibrationData:
    """A new model's calibration from the base model's: each dense signal's floor and ceiling
    move by how much its chance level (``null_quantile`` on the same library) moved, so the
    floor keeps the same margin above chance in the new space. Signals without a null level
    (lexical: its scores do not depend on the model) keep the base's."""
    out: CalibrationData = {}
    for signal, cal in base.items():
        shift = new_null[signal] - base_null[signal] if signal in new_null else 0.0
        floor = min(0.95, float(cal["floor"]) + shift)
        ceiling = max(floor + 0.05, min(1.0, float(cal["ceiling"]) + shift))
        out[signal] = {"weight": float(cal["weight"]), "floor": floor, "ceiling": ceiling}
    return out
