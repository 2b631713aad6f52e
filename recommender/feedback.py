"""A user's events turned into one signed, time-decayed weight per video: what they liked and what they turned away from."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from core.models import EventKind
from core.users import FINISHED_FRACTION

SECONDS_PER_DAY = 86_400.0


class EventLike(Protocol):
    """What is read of an event (core.users.EventRow has it)."""

    @property
    def id(self) -> int: ...
    @property
    def video_id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def position(self) -> float | None: ...
    @property
    def created_at(self) -> datetime: ...


@dataclass(frozen=True)
class FeedbackWeights:
    """How much each kind of evidence says about taste (positive: more like it; negative: less)."""

    liked: float = 1.5
    completed: float = 1.0
    started: float = 0.3  # a start says a little; progress goes from here to `completed`
    skipped: float = -0.5
    disliked: float = -1.0
    half_life_days: float = 30.0  # an event this old counts half
    finished_fraction: float = FINISHED_FRACTION  # progress this far in counts as completed


@dataclass(frozen=True)
class Feedback:
    """One video's standing with the user: the weight (decayed) and the event that decided it."""

    weight: float
    kind: str  # the deciding kind: liked | completed | progress | started | skipped | disliked
    at: datetime  # the video's latest event


def decay(age_seconds: float, half_life_days: float) -> float:
    """0.5 ** (age / half-life); events from the future (clock skew) count as new."""
    return 0.5 ** (max(age_seconds, 0.0) / (half_life_days * SECONDS_PER_DAY))


def video_feedback(
    events: Iterable[EventLike],
    durations: Mapping[str, float | None],
    now: datetime,
    weights: FeedbackWeights = FeedbackWeights(),
) -> dict[str, Feedback]:
    """One Feedback per video the events touch. The latest verdict (liked / disliked) wins; else
    a completion, unless a skip came after the latest playback; else how far playback got.
    The weight decays with the age of the video's latest event."""
    by_video: dict[str, list[EventLike]] = {}
    for event in events:
        by_video.setdefault(event.video_id, []).append(event)
    out: dict[str, Feedback] = {}
    for video_id, evs in by_video.items():
        evs.sort(key=lambda e: e.id)
        latest = evs[-1]
        verdicts = [e for e in evs if e.kind in (EventKind.LIKED, EventKind.DISLIKED)]
        playback = [e for e in evs if e.kind in EventKind.PLAYBACK]
        skips = [e for e in evs if e.kind == EventKind.SKIPPED]
        duration = durations.get(video_id)
        reached = max(
            (e.position / duration for e in playback if e.position is not None and duration),
            default=0.0,
        )
        completed = any(e.kind == EventKind.COMPLETED for e in playback) or (
            reached >= weights.finished_fraction
        )
        last_play = playback[-1].id if playback else -1
        if verdicts:
            kind = verdicts[-1].kind
            value = weights.liked if kind == EventKind.LIKED else weights.disliked
        elif skips and skips[-1].id > last_play:
            kind, value = EventKind.SKIPPED, weights.skipped
        elif completed:
            kind, value = EventKind.COMPLETED, weights.completed
        else:
            share = min(reached / weights.finished_fraction, 1.0)
            kind = EventKind.PROGRESS if reached > 0 else EventKind.STARTED
            value = weights.started + (weights.completed - weights.started) * share
        age = (now - latest.created_at).total_seconds()
        out[video_id] = Feedback(
            value * decay(age, weights.half_life_days), kind, latest.created_at
        )
    return out
