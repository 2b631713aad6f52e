"""The pictures of a ready video's clips, decoded again: what a switch to another vision model
re-embeds (services/model_switch.py), since stored clip features belong to the model that made
them. A segment's clips follow each other from its start, ``clip_seconds`` each (the last may
be shorter); the picture of a clip is the sampled frame nearest its middle, as the ingest took.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from core.errors import BadInput
from core.settings import Settings
from indexer.media import probe, sample_frames
from videobert.frames import INPUT_SIDE


def clip_middles(start: float, end: float, n_clips: int, clip_seconds: float) -> list[float]:
    """Where each clip's picture was taken: the middle of its stretch, inside the segment."""
    if n_clips <= 0:
        return []
    span = max(end - start, 1e-3)
    # The segmenter cut clips of clip_seconds; a segment whose clips do not add up (settings
    # changed since) gets its clips spread evenly instead.
    width = clip_seconds if n_clips * clip_seconds <= span + clip_seconds else span / n_clips
    out = []
    for i in range(n_clips):
        lo = start + i * width
        hi = min(end, lo + width)
        out.append(min(max(start, (lo + hi) / 2), end))
    return out


def clip_pictures(
    path: Path, segments: Sequence[tuple[float, float, int]], settings: Settings
) -> list[np.ndarray]:
    """Per segment (start, end, clips), its clips' pictures: (clips, INPUT_SIDE, INPUT_SIDE, 3)
    uint8. Decodes the file once, in order. Raises BadInput for a file that is gone or broken."""
    if not path.is_file():
        raise BadInput(path, "the original file is gone")
    wanted = [clip_middles(s, e, n, settings.clip_seconds) for s, e, n in segments]
    flat = sorted((t, si, ci) for si, ts in enumerate(wanted) for ci, t in enumerate(ts))
    out = [np.zeros((len(ts), INPUT_SIDE, INPUT_SIDE, 3), np.uint8) for ts in wanted]
    found = [np.full(len(ts), np.inf) for ts in wanted]  # distance of the frame kept
    if not flat:
        return out
    info = probe(path)
    at = 0
    previous = None
    for frame in sample_frames(
        path,
        fps=settings.analysis_fps,
        model_side=INPUT_SIDE,
        thumb_width=32,
        expected_duration=info.duration,
        max_pixels=settings.max_frame_pixels,
    ):
        # Every wanted time up to this frame takes the nearer of it and the frame before.
        while at < len(flat) and flat[at][0] <= frame.t:
            t, si, ci = flat[at]
            for candidate in (previous, frame):
                if candidate is not None and abs(candidate.t - t) < found[si][ci]:
                    found[si][ci] = abs(candidate.t - t)
                    out[si][ci] = candidate.model_rgb
            at += 1
        previous = frame
        if at >= len(flat):
            break
    for t, si, ci in flat[at:]:  # past the last frame: the last frame
        if previous is not None and abs(previous.t - t) < found[si][ci]:
            out[si][ci] = previous.model_rgb
            found[si][ci] = abs(previous.t - t)
    return out
