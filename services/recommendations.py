"""Recommendations and continue watching, as every front end uses them.

A ``Recommender`` caches the library's video vectors and the co-watch model, so a process makes
one with ``recommender_for(settings)`` and keeps it: the API in its lifespan, the web UI in
``st.cache_resource``; a CLI command makes one for its single call. In served mode
(``VIDSEARCH_QDRANT_URL``) its video vectors are Qdrant's video-level collection, not the
process's. Users are named as in
services/users.py: by ``user_id`` (must exist) or by ``name`` (created on first use)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.answers import ContinueView
from core.settings import Settings
from core.users import continue_summary
from core.vectors import open_video_index
from recommender.service import MAX_LIMIT, Recommender, check_limit
from services.users import user_id_of

if TYPE_CHECKING:
    from qdrant_client import QdrantClient

__all__ = ["MAX_LIMIT", "Recommender", "continue_watching", "recommend", "recommender_for"]


def recommender_for(
    settings: Settings, *, qdrant_client: QdrantClient | None = None
) -> Recommender:
    """The recommender of one process, tuned by the settings (nothing is read until first use).
    With a Qdrant server (or ``qdrant_client``, any client: tests hand in a local one) its
    content candidates and video vectors come from the video-level collection."""
    return Recommender(
        settings,
        video_index=open_video_index(settings, client=qdrant_client),
        refresh_seconds=settings.recommend_refresh_seconds,
        check_seconds=settings.recommend_check_seconds,
    )


def recommend(
    settings: Settings,
    *,
    user_id: int | None = None,
    name: str | None = None,
    limit: int = 10,
    recommender: Recommender | None = None,
) -> list[dict[str, Any]]:
    """The user's next videos, best first: ``{"video_id", "path", "title", "score", "reason",
    "reason_kind", "because_video_id"}`` each. Never a video the user has any event for.
    UnknownUser for an id nobody has; ValueError for a limit outside 1..MAX_LIMIT."""
    check_limit(limit)  # before a named user is created
    uid = user_id_of(settings, user_id=user_id, name=name)
    rec = recommender or recommender_for(settings)
    return [r.as_dict() for r in rec.recommend(user_id=uid, limit=limit)]


def continue_watching(
    settings: Settings,
    *,
    user_id: int | None = None,
    name: str | None = None,
    limit: int = 20,
    recommender: Recommender | None = None,
) -> list[ContinueView]:
    """Videos started and not finished, most recent first: ``{"video_id", "path", "title",
    "position", "duration", "progress", "at"}`` each, ``position`` in seconds to resume from."""
    check_limit(limit)
    uid = user_id_of(settings, user_id=user_id, name=name)
    rec = recommender or recommender_for(settings)
    return [continue_summary(item) for item in rec.continue_watching(user_id=uid, limit=limit)]
