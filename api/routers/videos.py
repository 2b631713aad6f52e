"""``/videos``: the library, one video, its summary, similar videos, thumbnails and the file."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from fastapi import Path as ApiPath
from fastapi.responses import FileResponse, Response

from api.auth import AdminOnly, Viewer
from api.deps import AppSettings, Svc
from api.schemas import MAX_PAGE_OFFSET, SearchOut, SummaryOut, VideoDetailOut, VideosOut
from core.answers import VideoDetailView
from search.types import MAX_LIMIT, MAX_QUERY_CHARS, SearchResponse, SummaryResult
from services.library import (
    Busy,
    FileGone,
    delete_video,
    page_videos,
    thumbnail_file,
    video_detail,
)
from services.playback import original_file
from services.search import find_similar
from services.summaries import NoMatchingMoment, summary_for

router = APIRouter(prefix="/videos", tags=["videos"], dependencies=[Viewer])


@router.get("", response_model=VideosOut)
def videos(
    settings: AppSettings,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_PAGE_OFFSET)] = 0,
    status: Annotated[str | None, Query(pattern="^(pending|processing|ready|failed)$")] = None,
) -> dict[str, Any]:
    page = page_videos(settings, status=status, limit=limit, offset=offset)
    return {"videos": page.items, "total": page.total}


@router.get("/{video_id}", response_model=VideoDetailOut)
def video(settings: AppSettings, video_id: str) -> VideoDetailView:
    detail = video_detail(settings, video_id)
    for seg in detail["segment_list"]:
        seg["thumbnail_url"] = f"/videos/{video_id}/segments/{seg['index']}/thumbnail"
    return detail


@router.delete(
    "/{video_id}",
    status_code=204,
    dependencies=[AdminOnly],
    responses={409: {"description": "A job is indexing the video right now"}},
)
def remove(svc: Svc, video_id: str) -> Response:
    """Remove a video from the library: its segments, paths, events, summaries, jobs,
    thumbnails and index points (a file uploaded to the server too; a file on the server's disk
    stays). Admins only."""
    try:
        delete_video(svc.settings, video_id, store=svc.search.index)
    except Busy as exc:
        raise HTTPException(409, str(exc)) from None
    return Response(status_code=204)


@router.get("/{video_id}/summary", response_model=SummaryOut)
def summary(
    svc: Svc,
    video_id: str,
    q: Annotated[
        str | None, Query(max_length=MAX_QUERY_CHARS, description="Focus on these words.")
    ] = None,
    segments: Annotated[str | None, Query(pattern=r"^\d{1,6}(,\d{1,6}){0,99}$")] = None,
) -> SummaryResult:
    try:
        return summary_for(svc, video_id, query=q, segments=wanted_segments(segments))
    except NoMatchingMoment as exc:
        raise HTTPException(404, str(exc)) from None


def wanted_segments(segments: str | None) -> list[int] | None:
    return [int(x) for x in segments.split(",")] if segments else None


@router.get("/{video_id}/similar", response_model=SearchOut)
def similar(
    svc: Svc,
    video_id: str,
    segment: Annotated[int | None, Query(ge=0, le=10**6)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 10,
) -> SearchResponse:
    return find_similar(svc, video_id, segment=segment, limit=limit)


@router.get(
    "/{video_id}/segments/{index}/thumbnail",
    response_class=FileResponse,
    responses={200: {"content": {"image/jpeg": {}}}},
)
def thumbnail(
    settings: AppSettings, video_id: str, index: Annotated[int, ApiPath(ge=0, le=10**6)]
) -> FileResponse:
    return FileResponse(thumbnail_file(settings, video_id, index), media_type="image/jpeg")


@router.get(
    "/{video_id}/stream",
    response_class=FileResponse,
    responses={
        200: {"content": {"video/*": {}}},
        206: {"description": "Partial content"},
        410: {"description": "The file is gone from disk"},
        416: {"description": "Range not satisfiable"},
    },
)
def stream(settings: AppSettings, video_id: str) -> FileResponse:
    """The video file itself; Range requests let a browser seek to a moment."""
    try:
        path, kind = original_file(settings, video_id)
    except FileGone as exc:
        raise HTTPException(410, str(exc)) from None
    return FileResponse(
        path, media_type=kind, filename=path.name, content_disposition_type="inline"
    )
