"""Search as every front end asks for it: a text query, a picture, videos like a video, and the
moments of one video that match a query (for focused summaries). Each takes the process's
``Services`` (services/root.py; typed by what it uses, services/handles.py) and returns a
``SearchResponse`` (search/types.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.settings import Settings
from search.types import MAX_LIMIT, SearchResponse

if TYPE_CHECKING:
    from core.vectors import SearchFilter
    from search.service import SearchService
    from services.handles import Handles
    from videobert.embedder import Embedder


def build_search_service(settings: Settings, embedder: Embedder | None = None) -> SearchService:
    """A search service over the catalog's index, embedding queries with the active model's
    text tower (loaded at the first query, once per process; the full model only for picture
    queries and reranking). Imported here, not at the top: a front end that imports this
    module to search later draws its first page without waiting for the models' imports."""
    from model_lifecycle.active import load_query_embedder
    from search.service import SearchService

    return SearchService(settings, embedder or load_query_embedder(settings))


def search_text(
    services: Handles,
    query: str | None,
    *,
    limit: int = 10,
    offset: int = 0,
    flt: SearchFilter | None = None,
    fusion: str | None = None,
) -> SearchResponse:
    """Videos matching a text query, best first, each with its best moments (QueryError for a
    query or page that cannot be searched); ``fusion`` overrides the configured fusion."""
    return services.search.search(query, limit=limit, offset=offset, flt=flt, fusion=fusion)


def search_picture(
    services: Handles, image: bytes, *, limit: int = 10, flt: SearchFilter | None = None
) -> SearchResponse:
    """Videos that look like an uploaded picture (QueryError for a file that is not one)."""
    return services.search.search_image(image, limit=limit, flt=flt)


def find_similar(
    services: Handles,
    video_id: str,
    *,
    segment: int | None = None,
    limit: int = 10,
    flt: SearchFilter | None = None,
) -> SearchResponse:
    """Videos like ``video_id`` (or like one of its moments), itself left out (LookupError for
    a video or segment that is not indexed)."""
    return services.search.more_like_this(video_id, segment=segment, limit=limit, flt=flt)


def matching_moments(services: Handles, video_id: str, query: str) -> list[int]:
    """The segments of ``video_id`` that a search for ``query`` matches strongly, best first
    (a weak result is the closest the library has, not a match to focus a summary on)."""
    return [
        m.segment
        for r in search_text(services, query, limit=MAX_LIMIT).results
        if r.video_id == video_id and not r.weak
        for m in r.moments
    ]
