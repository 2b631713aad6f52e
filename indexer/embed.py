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
from core.errors import TransientError
from core.settings import Settings
from indexer.sample import PlannedSegment
from model_lifecycle.active import ActiveEmbedder, space_embedder, vision_of
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


def pictures_of(embedder: Embedder) -> str | None:
    """The vision model an embedder's frames are read by now (None: the shipped encoder)."""
    if isinstance(embedder, ActiveEmbedder):
        return vision_of(embedder.options, embedder.active_ref())
    return None


class PicturesChanged(TransientError):
    """The active space now reads pictures with another vision model than this ingest's clip
    features came from: the job runs again (its retry decodes with the new model)."""


class SpaceVectors:
    """One ingest's vectors in each space it must write.

    An ``ActiveEmbedder`` (the default) follows the catalog's spaces: the vectors committed as
    the segments' own are the active space's, and during a transition the pending space's go
    beside them, when that space reads pictures with the same model (a switch to another vision
    model re-embeds the video from its file later: services/model_switch.py). Any other
    embedder (the bridge, or one a caller passes in) is its own space.
    """

    def __init__(
        self, settings: Settings, embedder: Embedder, *, pictures: str | None | bool = False
    ) -> None:
        """``pictures``: the vision model the clips were read by, as ``pictures_of`` told
        before the frames were encoded (False: as the active space reads them now)."""
        self.settings = settings
        self.embedder = embedder
        self.follows_spaces = isinstance(embedder, ActiveEmbedder)
        self.vectors: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.clips: list[np.ndarray] = []
        self.captions: list[str] = []
        self.pictures = pictures_of(embedder) if pictures is False else pictures

    def _vision(self, ref: ModelRef | None) -> str | None:
        assert isinstance(self.embedder, ActiveEmbedder)
        return vision_of(self.embedder.options, ref)

    def _reads_our_clips(self, ref: ModelRef | None) -> bool:
        return not self.follows_spaces or self._vision(ref) == self.pictures

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
            if not self._reads_our_clips(active):
                raise PicturesChanged("the active space changed its vision model during indexing")
            name = self._compute(active)
            if pending is not None and self._reads_our_clips(pending):
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
        """Vectors in more spaces, for the same segments; PicturesChanged for a space that
        reads pictures with another model (these clip features are not its own)."""
        for ref in refs:
            if not self._reads_our_clips(ref):
                raise PicturesChanged(
                    f"space {ref.name if ref else 'configured'} reads pictures with another model"
                )
            self._compute(ref)

    def needed(self, session: Session) -> tuple[str, str | None]:
        """The names of the spaces a commit in ``session`` must write now: (active, pending or
        None); raises SpacesMoved when this ingest has no vectors for one of them yet."""
        if not self.follows_spaces:
            return self.embedder.name, None
        active, pending = self.current_refs(session)  # locks: decides under the lock
        # A pending space of another vision model is filled from the file by the switch.
        same = pending is not None and self._reads_our_clips(pending)
        wanted = [active] + ([pending] if same else [])
        names = [self._embedder(r).name for r in wanted]
        missing = [r for r, n in zip(wanted, names, strict=True) if n not in self.vectors]
        if missing:
            raise SpacesMoved(missing)
        return names[0], (names[1] if len(names) > 1 else None)
