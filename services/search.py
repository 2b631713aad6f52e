"""Search as every front end uses it: one ``SearchService`` per process for the active model,
and the moments of a video that match a query (for focused summaries)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.settings import Settings
from model_lifecycle.active import load_query_embedder
from search.service import SearchService
from search.types import MAX_LIMIT

if TYPE_CHECKING:
    from videobert.embedder import Embedder


def build_search_service(settings: Settings, embedder: Embedder | None = None) -> SearchService:
    """A search service over the catalog's index, embedding queries with the active model's
    text tower (loaded at the first query, once per process; the full model only for picture
    queries and reranking)."""
    return SearchService(settings, embedder or load_query_embedder(settings))


def warm_up(service: SearchService) -> None:
    """Load the query model and fill the index now, so the first query costs what any does."""
    service.embedder.embed_text(["warm up"])
    service.live.ensure_fresh()


def matching_moments(service: SearchService, video_id: str, query: str) -> list[int]:
    """The segments of ``video_id`` that a search for ``query`` matches strongly, best first
    (a weak result is the closest the library has, not a match to focus a summary on)."""
    return [
        m.segment
        for r in service.search(query, limit=MAX_LIMIT).results
        if r.video_id == video_id and not r.weak
        for m in r.moments
    ]
