"""Embed: per segment, the visual tags and caption, the video vector and the text vector, in
every vector space the commit must write (the active one; the pending one during a transition,
see model_lifecycle/reembed.py)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from core.db import session_scope
from core.settings import Settings
from indexer.sample import PlannedSegment
from model_lifecycle.active import ActiveEmbedder, space_embedder
from model_lifecycle.spaces import ModelRef, lock_spaces, read_spaces, ref_of
from videobert.embedder import Embedder

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

MAX_SPACE_RETRIES = 4  # commits that found the spaces moved under them, before giving up


@dataclass
class EmbeddedSegment:
    planned: PlannedSegment
    transcript: str
    tags: list[str]
    caption: str
    video_vector: np.ndarray
    text_vector: np.ndarray
    beliefs: dict[int, float] = field(default_factory=dict)  # likely classes: the concept signal


def caption_text(transcript: str, tags: Sequence[str], on_screen: Sequence[str] = ()) -> str:
    """What text search reads for a segment: what is said, what is written on screen, then what
    is seen."""
    seen = ", ".join(tags)
    shown = " / ".join(line for line in on_screen if line.strip())
    parts = [
        transcript,
        f"[on screen: {shown}]" if shown else "",
        f"[seen: {seen}]" if seen else "",
    ]
    return "\n".join(p for p in parts if p)


_SEEN_PART = re.compile(r"\[seen: ([^\]]*)\]\s*$")


def with_screen_text(caption: str, transcript: str, on_screen: Sequence[str]) -> str:
    """A stored caption made again with the text read on screen in its place (``vidsearch
    reindex`` reading segments indexed before it was read): its words seen are kept as stored."""
    seen = _SEEN_PART.search(caption)
    return caption_text(transcript, [seen.group(1)] if seen and seen.group(1) else [], on_screen)


class SpacesMoved(Exception):
    """The active or pending space changed between the embed and the commit."""

    def __init__(self, refs: list[ModelRef | None]) -> None:
        super().__init__(f"vectors needed in {[r.name if r else 'configured' for r in refs]}")
        self.refs = refs


class SpaceVectors:
    """One ingest's vectors in each space it must write.

    An ``ActiveEmbedder`` (the default) follows the catalog's spaces: the vectors committed as
    the segments' own are the active space's, and during a transition the pending space's go
    beside them. Any other embedder (the bridge, or one a caller passes in) is its own space.
    """

    def __init__(self, settings: Settings, embedder: Embedder) -> None:
        self.settings = settings
        self.embedder = embedder
        self.follows_spaces = isinstance(embedder, ActiveEmbedder)
        self.vectors: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.clips: list[np.ndarray] = []
        self.captions: list[str] = []

    def _embedder(self, ref: ModelRef | None) -> Embedder:
        if not self.follows_spaces:
            return self.embedder
        return space_embedder(self.settings, ref)

    def _compute(self, ref: ModelRef | None) -> str:
        embedder = self._embedder(ref)
        if embedder.name not in self.vectors:
            self.vectors[embedder.name] = (
                embedder.embed_video(self.clips),
                embedder.embed_text(self.captions),
            )
        return embedder.name

    def current_refs(self, session: Session | None) -> tuple[ModelRef | None, ModelRef | None]:
        """(active, pending) now; with a session, locked for its transaction (see
        model_lifecycle/spaces.py), so a commit decides under the lock."""
        if session is not None:
            active, pending = lock_spaces(session=session)
            return ref_of(active), ref_of(pending)
        with session_scope(self.settings) as s:
            active_row, pending_row = read_spaces(session=s)
            return ref_of(active_row), ref_of(pending_row)

    def embed(
        self, planned: Sequence[PlannedSegment], transcripts: Sequence[str]
    ) -> list[EmbeddedSegment]:
        """Tags, captions and vectors in the spaces current now (the commit checks again)."""
        if len(planned) != len(transcripts):
            raise ValueError(f"{len(planned)} segments but {len(transcripts)} transcripts")
        self.clips = [p.clip_features for p in planned]
        tags = self.embedder.visual_tags(self.clips)  # shown to people: hedged
        words = self.embedder.caption_words(self.clips)  # read by search: the top classes
        beliefs = self.embedder.class_beliefs(self.clips)  # read by search: the concept signal
        # A segment with neither speech nor tags still gets a text vector: the empty caption's.
        self.captions = [
            caption_text(t, w, p.screen_text or ())
            for t, w, p in zip(transcripts, words, planned, strict=True)
        ]
        if self.follows_spaces:
            active, pending = self.current_refs(None)
            name = self._compute(active)
            if pending is not None:
                self._compute(pending)
        else:
            name = self._compute(None)
        video, text = self.vectors[name]
        return [
            EmbeddedSegment(p, t, g, c, v, x, b)
            for p, t, g, c, v, x, b in zip(
                planned, transcripts, tags, self.captions, video, text, beliefs, strict=True
            )
        ]

    def add(self, refs: Sequence[ModelRef | None]) -> None:
        """Vectors in more spaces, for the same segments."""
        for ref in refs:
            self._compute(ref)

    def needed(self, session: Session) -> tuple[str, str | None]:
        """The names of the spaces a commit in ``session`` must write now: (active, pending or
        None); raises SpacesMoved when this ingest has no vectors for one of them yet."""
        if not self.follows_spaces:
            return self.embedder.name, None
        active, pending = self.current_refs(session)  # locks: decides under the lock
        wanted = [active] + ([pending] if pending is not None else [])
        names = [self._embedder(r).name for r in wanted]
        missing = [r for r, n in zip(wanted, names, strict=True) if n not in self.vectors]
        if missing:
            raise SpacesMoved(missing)
        return names[0], (names[1] if len(names) > 1 else None)
