"""Sample: one decode pass that feeds the segmenter, encodes each clip's frame, and keeps a
thumbnail per segment (the frame in the middle of it)."""

from __future__ import annotations

import io
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from core.errors import BadInput
from core.looks import frame_looks, mean_looks
from core.settings import Settings
from indexer.detect import Seen, SegmentDetectors
from indexer.media import MediaInfo, SampledFrame, sample_frames
from indexer.segment import Clip, Segmenter, colour_signature
from videobert.embedder import Embedder
from videobert.frames import INPUT_SIDE

JPEG_QUALITY = 82


@dataclass
class PlannedSegment:
    index: int
    shot_index: int
    start: float
    end: float
    clip_features: np.ndarray  # (n_clips, feature_dim)
    thumbnail_jpeg: bytes
    looks: dict[str, float] = field(default_factory=dict)  # core/looks.py: mean over its clips
    # Read in its frames (indexer/screen_text.py); None: not read (the stage is off).
    screen_text: list[str] | None = None
    # Faces and people seen (indexer/people.py, as core/people.py keeps it); None: not looked for.
    people: dict[str, float] | None = None


@dataclass
class _OpenSegment:
    shot_index: int
    clips: list[Clip[SampledFrame]] = field(default_factory=list)
    features: list[np.ndarray | None] = field(default_factory=list)
    looks: list[dict[str, float]] = field(default_factory=list)
    thumbnail: bytes | None = None
    seen: Future[Seen] | None = None

    def seal(self, detect: Callable[[list[np.ndarray]], Future[Seen]] | None) -> None:
        """Make the thumbnail, hand the clips' frames (thumbnail size) to the text and people
        detectors, and let go of the frames (long videos must not pile them up)."""
        if self.thumbnail is None:
            self.thumbnail = jpeg_bytes(self.clips[len(self.clips) // 2].samples[0].thumb_rgb)
            if detect is not None:
                self.seen = detect([c.samples[0].thumb_rgb for c in self.clips if c.samples])
            for clip in self.clips:
                clip.samples = []


class _Beside:
    """The detectors in a thread of their own beside the decode and the frame encoder (both
    onnxruntime and OpenCV release the GIL), with at most MAX_PENDING segments' frames waiting,
    so a slow detector holds the decode back rather than let frames pile up."""

    MAX_PENDING = 4

    def __init__(self, detect: SegmentDetectors) -> None:
        self.detect = detect
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="detect")
        self.pending: deque[Future[Seen]] = deque()

    def __call__(self, frames: list[np.ndarray]) -> Future[Seen]:
        while len(self.pending) >= self.MAX_PENDING:
            self.pending.popleft().result()
        future = self.pool.submit(self.detect, frames)
        self.pending.append(future)
        return future

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


def jpeg_bytes(rgb: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    return buf.getvalue()


def analyse(
    path,
    info: MediaInfo,
    settings: Settings,
    embedder: Embedder,
    on_progress: Callable[[float], None] = lambda _f: None,
    detect: SegmentDetectors | None = None,
) -> list[PlannedSegment]:
    """Decode once; return the video's segments with clip features and thumbnails (and what
    ``detect`` reads and counts in their frames)."""
    segmenter: Segmenter[SampledFrame] = Segmenter(
        clip_seconds=settings.clip_seconds,
        max_segment_seconds=settings.max_segment_seconds,
        shot_threshold=settings.shot_threshold,
    )
    beside = _Beside(detect) if detect is not None and detect.enabled else None
    try:
        return _analyse(path, info, settings, embedder, on_progress, segmenter, beside)
    finally:
        if beside is not None:
            beside.close()


def _analyse(
    path,
    info: MediaInfo,
    settings: Settings,
    embedder: Embedder,
    on_progress: Callable[[float], None],
    segmenter: Segmenter[SampledFrame],
    beside: _Beside | None,
) -> list[PlannedSegment]:
    segments: dict[int, _OpenSegment] = {}
    pending: list[
        tuple[int, int, np.ndarray]
    ] = []  # (segment, clip slot, frame) awaiting the encoder

    def flush() -> None:
        if not pending:
            return
        feats = embedder.encode_frames(np.stack([f for _, _, f in pending])).features
        for (seg, slot, _), feat in zip(pending, feats, strict=True):
            segments[seg].features[slot] = feat
        pending.clear()

    def take(clips: list[Clip[SampledFrame]]) -> None:
        for clip in clips:
            seg = segments.setdefault(clip.segment_index, _OpenSegment(clip.shot_index))
            seg.clips.append(clip)
            seg.features.append(None)
            # The clip's picture: its middle sampled frame (one frame per 1.5 s keeps CPUs at >10x).
            middle = clip.samples[len(clip.samples) // 2]
            pending.append((clip.segment_index, len(seg.clips) - 1, middle.model_rgb))
            seg.looks.append(frame_looks(middle.model_rgb))
            # Only the middle frame is needed from here on; drop the rest of the clip's frames.
            clip.samples = [middle]
            for index, older in segments.items():
                if index < clip.segment_index:
                    older.seal(beside)
        if len(pending) >= settings.frame_batch_size:
            flush()

    duration = max(info.duration, 1e-3)
    for frame in sample_frames(
        path,
        fps=settings.analysis_fps,
        model_side=INPUT_SIDE,
        thumb_width=settings.thumbnail_width,
        expected_duration=info.duration,
        max_pixels=settings.max_frame_pixels,
    ):
        take(segmenter.push(frame.t, colour_signature(frame.model_rgb), frame))
        on_progress(min(1.0, frame.t / duration))
    take(segmenter.finish(info.duration))
    flush()
    if not segments:
        raise BadInput(path, "video has no decodable frames")

    for seg in segments.values():
        seg.seal(beside)
    planned = []
    for new_index, old_index in enumerate(sorted(segments)):
        seg = segments[old_index]
        seen = seg.seen.result() if seg.seen is not None else None
        assert seg.thumbnail is not None
        planned.append(
            PlannedSegment(
                index=new_index,
                shot_index=seg.shot_index,
                start=round(seg.clips[0].start, 3),
                end=round(seg.clips[-1].end, 3),
                clip_features=np.stack([f for f in seg.features if f is not None]).astype(
                    np.float32
                ),
                thumbnail_jpeg=seg.thumbnail,
                looks=mean_looks(seg.looks),
                screen_text=seen.screen_text if seen else None,
                people=seen.people if seen else None,
            )
        )
    on_progress(1.0)
    return planned
