"""Summaries: a video's summary (cached per video, model and content; made at index time) and a
summary focused on the moments that matched a query."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from core import summaries as repo
from core.db import session_scope
from core.settings import Settings
from model_lifecycle.active import load_query_embedder
from search.summary import Summaries, SummaryResult, summaries_for

if TYPE_CHECKING:
    from videobert.embedder import Embedder


def summaries(settings: Settings, embedder: Embedder | None = None) -> Summaries:
    """The summary service; the text encoder (for the extractive method) is only used when a
    summary has to be made, not when it is cached."""
    chosen = embedder

    def embed_text(texts: list[str]) -> np.ndarray:
        nonlocal chosen
        if chosen is None:
            chosen = load_query_embedder(settings)
        return chosen.embed_text(texts)

    return summaries_for(settings, embed_text)


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
