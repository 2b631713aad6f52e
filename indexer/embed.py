"""Embed: per segment, the visual tags and caption, the video vector and the text vector."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from indexer.sample import PlannedSegment
from videobert.embedder import Embedder


@dataclass
class EmbeddedSegment:
    planned: PlannedSegment
    transcript: str
    tags: list[str]
    caption: str
    video_vector: np.ndarray
    text_vector: np.ndarray


def caption_text(transcript: str, tags: Sequence[str]) -> str:
    """What text search reads for a segment: what is said, then what is seen."""
    seen = ", ".join(tags)
    if transcript and seen:
        return f"{transcript}\n[seen: {seen}]"
    return transcript or (f"[seen: {seen}]" if seen else "")


def embed_segments(
    planned: Sequence[PlannedSegment], transcripts: Sequence[str], embedder: Embedder
) -> list[EmbeddedSegment]:
    if len(planned) != len(transcripts):
        raise ValueError(f"{len(planned)} segments but {len(transcripts)} transcripts")
    clips = [p.clip_features for p in planned]
    tags = embedder.visual_tags(clips)
    captions = [caption_text(t, g) for t, g in zip(transcripts, tags, strict=True)]
    video_vectors = embedder.embed_video(clips)
    # A segment with neither speech nor tags still gets a text vector: the empty caption's.
    text_vectors = embedder.embed_text(captions)
    return [
        EmbeddedSegment(p, t, g, c, v, x)
        for p, t, g, c, v, x in zip(
            planned, transcripts, tags, captions, video_vectors, text_vectors, strict=True
        )
    ]
