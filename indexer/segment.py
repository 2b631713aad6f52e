"""Segmentation, a pure online state machine: sampled frames in, closed clips out.

Shots are found by colour-histogram distance between consecutive sampled frames. Inside a shot,
VideoBERT's clips are cut every ``clip_seconds`` starting at the shot's start, so no clip straddles
a cut. A segment (the unit of search results) is a shot, or a piece of a long shot of at most
``max_segment_seconds``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

import numpy as np

T = TypeVar("T")

HIST_BINS = 4  # per channel: 64 colours, robust to motion and noise


def colour_signature(rgb: np.ndarray) -> np.ndarray:
    """A normalised 4x4x4 colour histogram of a frame (subsampled: a cut changes every pixel)."""
    small = rgb[::4, ::4].reshape(-1, 3).astype(np.int32) // (256 // HIST_BINS)
    codes = (small[:, 0] * HIST_BINS + small[:, 1]) * HIST_BINS + small[:, 2]
    hist = np.bincount(codes, minlength=HIST_BINS**3).astype(np.float32)
    return hist / max(1.0, float(hist.sum()))


def signature_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Half the L1 distance of two normalised histograms: 0 same colours, 1 disjoint."""
    return 0.5 * float(np.abs(a - b).sum())


@dataclass
class Clip(Generic[T]):
    segment_index: int
    shot_index: int
    start: float
    end: float
    samples: list[T] = field(default_factory=list)


@dataclass
class Segmenter(Generic[T]):
    """Feed ``push(t, signature, sample)`` in time order, then ``finish(duration)``.

    Each call returns the clips that closed; every sample lands in exactly one clip.
    """

    clip_seconds: float = 1.5
    max_segment_seconds: float = 12.0
    shot_threshold: float = 0.45
    min_shot_seconds: float = 1.0  # a flash or a fast pan must not cut a shot into slivers

    _clip: Clip[T] | None = None
    _last_signature: np.ndarray | None = None
    _segment_index: int = -1
    _shot_index: int = -1
    _shot_start: float = 0.0
    _segment_start: float = 0.0

    def __post_init__(self) -> None:
        if self.clip_seconds <= 0:
            raise ValueError(f"clip_seconds must be positive, got {self.clip_seconds}")
        if self.max_segment_seconds < self.clip_seconds:
            raise ValueError(
                f"max_segment_seconds {self.max_segment_seconds} is shorter than a clip ({self.clip_seconds})"
            )
        # A segment holds a whole number of clips.
        self._clips_per_segment = max(1, int(self.max_segment_seconds / self.clip_seconds + 1e-6))

    def _is_cut(self, t: float, signature: np.ndarray) -> bool:
        if self._last_signature is None:
            return False
        if t - self._shot_start < self.min_shot_seconds:
            return False
        return signature_distance(self._last_signature, signature) >= self.shot_threshold

    def _open(self, start: float, *, new_shot: bool, new_segment: bool) -> None:
        if new_shot:
            self._shot_index += 1
            self._shot_start = start
        if new_shot or new_segment:
            self._segment_index += 1
            self._segment_start = start
        self._clip = Clip(self._segment_index, self._shot_index, start, start)

    def push(self, t: float, signature: np.ndarray, sample: T) -> list[Clip[T]]:
        closed: list[Clip[T]] = []
        if self._clip is None:
            self._open(0.0 if t < self.clip_seconds else t, new_shot=True, new_segment=True)
        elif self._is_cut(t, signature):
            closed.append(self._close(t))
            self._open(t, new_shot=True, new_segment=True)
        else:
            clip = self._clip
            assert clip is not None
            # Close clips whose time is up (more than one when frames are sparse).
            while t >= clip.start + self.clip_seconds - 1e-6:
                boundary = clip.start + self.clip_seconds
                closed.append(self._close(boundary))
                clips_done = round((boundary - self._segment_start) / self.clip_seconds)
                self._open(
                    boundary, new_shot=False, new_segment=clips_done >= self._clips_per_segment
                )
                clip = self._clip
                assert clip is not None
        assert self._clip is not None
        self._clip.samples.append(sample)
        self._last_signature = signature
        # Sparse frames can leave a clip empty: it has nothing to show or embed, so it is dropped
        # (segment numbers are made contiguous again by the caller).
        return [c for c in closed if c.samples]

    def _close(self, end: float) -> Clip[T]:
        clip = self._clip
        assert clip is not None
        clip.end = end
        self._clip = None
        return clip

    def finish(self, duration: float) -> list[Clip[T]]:
        if self._clip is None or not self._clip.samples:
            return []
        return [self._close(max(duration, self._clip.start + 1e-3))]
