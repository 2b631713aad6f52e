"""The clips of a ready video, decoded again from its file: what a re-embed into a space of
another vision model reads (services/model_switch.py)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from core.catalog import video_thumbnails
from core.db import session_scope
from core.errors import BadInput
from core.settings import Settings
from model_lifecycle.reembed import Redecode

log = logging.getLogger(__name__)


def redecoder(settings: Settings) -> Redecode:
    """Per video, its clips' pictures from its file; where the file is gone or broken, each
    segment's thumbnail stands in (said in the log), so one lost file never blocks a switch."""

    def redecode(video_id: str, bounds: Sequence[tuple[float, float, int]]) -> list[np.ndarray]:
        from indexer.clip_frames import clip_pictures
        from services.library import FileGone, video_file

        try:
            return clip_pictures(video_file(settings, video_id), bounds, settings)
        except (FileGone, BadInput) as exc:
            log.warning("video %s: %s; its thumbnails stand in for its clips", video_id, exc)
            return thumbnail_pictures(settings, video_id, [n for _, _, n in bounds])

    return redecode


def thumbnail_pictures(settings: Settings, video_id: str, clips: Sequence[int]) -> list[np.ndarray]:
    from PIL import Image

    from videobert.frames import INPUT_SIDE

    with session_scope(settings) as session:
        thumbs = video_thumbnails(session=session, video_id=video_id)
    out = []
    for thumb, n in zip(thumbs, clips, strict=True):
        picture = np.full((INPUT_SIDE, INPUT_SIDE, 3), 128, np.uint8)  # nothing left: grey
        path = settings.thumbnails_dir / thumb if thumb else None
        if path is not None and path.is_file():
            with Image.open(path) as img:
                rgb = img.convert("RGB").resize((INPUT_SIDE, INPUT_SIDE), Image.Resampling.BILINEAR)
                picture = np.asarray(rgb, np.uint8)
        out.append(np.repeat(picture[None], max(1, n), axis=0))
    return out
