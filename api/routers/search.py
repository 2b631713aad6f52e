"""``/search`` and ``/search/image``: text and picture queries."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, HTTPException, Query, UploadFile

from api.auth import Viewer
from api.deps import Svc
from api.schemas import SearchOut
from core.vectors import SearchFilter
from search.types import MAX_LIMIT, MAX_OFFSET, MAX_QUERY_CHARS, SearchResponse
from services.search import search_picture, search_text

router = APIRouter(tags=["search"], dependencies=[Viewer])
MAX_UPLOAD_BYTES = 20 * 1024 * 1024


@router.get("/search", response_model=SearchOut)
def search(
    svc: Svc,
    q: Annotated[
        str, Query(min_length=1, max_length=MAX_QUERY_CHARS, description="What to look for.")
    ],
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 10,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    min_duration: Annotated[float | None, Query(ge=0, le=1e7)] = None,
    max_duration: Annotated[float | None, Query(ge=0, le=1e7)] = None,
    ingested_after: Annotated[
        float | None, Query(ge=0, le=1e11, description="Epoch seconds.")
    ] = None,
    ingested_before: Annotated[
        float | None, Query(ge=0, le=1e11, description="Epoch seconds.")
    ] = None,
    has_speech: bool | None = None,
    folder: Annotated[str | None, Query(max_length=4096)] = None,
) -> SearchResponse:
    flt = SearchFilter(
        min_duration=min_duration,
        max_duration=max_duration,
        ingested_after=ingested_after,
        ingested_before=ingested_before,
        has_speech=has_speech,
        folder=folder or None,
    )
    return search_text(svc, q, limit=limit, offset=offset, flt=flt)


@router.post("/search/image", response_model=SearchOut)
def search_image(
    svc: Svc,
    image: Annotated[UploadFile, File(description="A picture (JPEG, PNG, ...).")],
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 10,
) -> SearchResponse:
    data = image.file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise HTTPException(413, f"image is over {MAX_UPLOAD_BYTES} bytes")
    return search_picture(svc, data, limit=limit)
