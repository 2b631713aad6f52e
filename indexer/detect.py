"""The on-screen text and people stages for one segment's frames, as the settings turn them on
(``VIDSEARCH_SCREEN_TEXT``, ``VIDSEARCH_PEOPLE``): the ingest pipeline calls it with each
segment's clip frames, ``vidsearch reindex`` with a stored thumbnail. The detectors load at
first use, once per process (indexer/screen_text.py, indexer/people.py)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass

import numpy as np

from core.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Seen:
    # None: the stage is off, or its detector failed on these frames (the segment stays unread).
    screen_text: list[str] | None
    people: dict[str, float] | None


class SegmentDetectors:
    """What one segment's frames show of text and people; a stage that is off returns None."""

    def __init__(
        self,
        *,
        screen_text: bool,
        people: bool,
        clock: Callable[[str], AbstractContextManager[None]] | None = None,
    ) -> None:
        self.screen_text = screen_text
        self.people = people
        self.clock = clock or (lambda _stage: nullcontext())  # wall seconds per stage

    @classmethod
    def from_settings(
        cls, settings: Settings, clock: Callable[[str], AbstractContextManager[None]] | None = None
    ) -> SegmentDetectors:
        return cls(screen_text=settings.screen_text, people=settings.people, clock=clock)

    @property
    def enabled(self) -> bool:
        return self.screen_text or self.people

    def __call__(self, frames: Sequence[np.ndarray]) -> Seen:
        """``frames``: the segment's pictures, (h, w, 3) uint8, in time order."""
        lines: list[str] | None = None
        people: dict[str, float] | None = None
        # A detector that fails on a frame costs the segment that reading, never the video: it
        # stays unread (NULL), says so in the log, and the next `vidsearch reindex` tries again.
        if self.screen_text:
            from indexer.screen_text import read_segment_text
            from indexer.word_split import split_joined

            with self.clock("screen text"):
                try:
                    # The shipped recognizer reads no spaces: run-together words are split
                    # again. Brackets become parentheses: captions and moments put what is read
                    # inside "[on screen: ...]" and "[seen: ...]".
                    lines = [
                        split_joined(line).replace("[", "(").replace("]", ")")
                        for line in read_segment_text(frames)
                    ]
                except Exception as exc:  # noqa: BLE001 - any failure of the OCR models
                    log.warning("on-screen text not read: %s", exc)
        if self.people:
            from indexer.people import segment_people

            with self.clock("people"):
                try:
                    found = asdict(segment_people(frames)) if frames else {}
                    people = {k: float(v) for k, v in found.items()}
                except Exception as exc:  # noqa: BLE001 - any failure of OpenCV's detectors
                    log.warning("people not counted: %s", exc)
        return Seen(lines, people)
