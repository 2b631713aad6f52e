"""Summaries: a video's summary (cached per video, model and content; made at index time) and a
summary focused on the moments that matched a query."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from core import summaries as repo
from core.catalog import get_video
from core.db import session_scope
from core.settings import Settings
from model_lifecycle.active import load_query_embedder
from search.summary import Summaries, SummaryResult, summaries_for

if TYPE_CHECKING:
    from services.handles import Handles
    from videobert.embedder import Embedder


class NoMatchingMoment(LookupError):
    """A focused summary was asked for words no moment of the video matches."""


def summaries(settings: Settings, embedder: Callable[[], Embedder] | None = None) -> Summaries:
    """The summary service; the text encoder (for the extractive method) is only asked for when
    a summary has to be made, not when it is cached. ``embedder`` gives the process's query
    model (services/root.py), so one model serves search and summaries; without it, one is
    loaded at the first summary made."""
    loaded: Embedder | None = None

    def embed_text(texts: list[str]) -> np.ndarray:
        nonlocal loaded
        if settings.vision_model:
            # A vision-language text tower knows captions, not how close two sentences are:
            # the extractive method keeps the text slot's sentence encoder (MiniLM).
            from videobert.embedder import shared_encoders
            from videobert.options import ModelOptions

            return shared_encoders(ModelOptions.from_settings(settings))[1].encode(list(texts))
        if loaded is None:
            loaded = embedder() if embedder else load_query_embedder(settings)
        return loaded.embed_text(texts)

    return summaries_for(settings, embed_text)


def summary_for(
    services: Handles,
    video_id: str,
    *,
    query: str | None = None,
    segments: Sequence[int] | None = None,
) -> SummaryResult:
    """The summary a viewer asked for: the video's own (made and cached if missing), or, given
    a query, one focused on the moments that match it (``segments`` when given, else the
    moments a search for the query finds strongly in this video).

    LookupError for a video that is not ready; NoMatchingMoment when no moment matches."""
    from services.search import matching_moments

    if not (query and query.strip()):
        return summary_of(services.settings, video_id, service=services.summaries)
    with session_scope(services.settings) as session:  # an unknown video before any search
        if get_video(session=session, video_id=video_id) is None:
            raise LookupError(f"no video {video_id}")
    wanted = list(segments) if segments else matching_moments(services, video_id, query)
    if not wanted:
        raise NoMatchingMoment(f"no moment of video {video_id} matches {query!r}")
    return focused_summary(services.settings, video_id, query, wanted, service=services.summaries)


def summary_of(
    settings: Settings, video_id: str, *, service: Summaries | None = None
) -> SummaryResult:
    """A video's summary, made and cached if missing (LookupError: no such ready video)."""
    service = service or summaries(settings)
    with session_scope(settings) as session:
        return service.for_video(session=session, video_id=video_id)


def focused_summary(
    settings: Settings,
    video_id: str,
    query: str,
    segments: Sequence[int],
    *,
    service: Summaries | None = None,
) -> SummaryResult:
    """A summary of the given moments of a video, focused on ``query`` (not cached)."""
    service = service or summaries(settings)
    with session_scope(settings) as session:
        return service.for_moments(
            session=session, video_id=video_id, query=query, segments=segments
        )


def stored_summaries(settings: Settings, video_ids: Sequence[str]) -> dict[str, SummaryResult]:
    """The summaries already made for these videos (the newest per video), read in one query
    and never made here: for listings, where making a missing one would stall the page."""
    if not video_ids:
        return {}
    with session_scope(settings) as session:
        stored = repo.stored_summaries(session=session, video_ids=video_ids)
        return {v: SummaryResult(v, r.text, r.method, r.model) for v, r in stored.items()}
