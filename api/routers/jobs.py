"""``/ingest`` and ``/jobs``: index files or folders on the server, and follow the jobs."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi import Path as ApiPath
from starlette.concurrency import run_in_threadpool

from api.auth import AdminOnly
from api.deps import AppSettings, Svc, get_services
from api.schemas import MAX_PAGE_OFFSET, IngestIn, IngestOut, JobOut, JobsOut
from core.answers import JobView
from core.errors import BadInput
from services.ingest import start
from services.job_views import job_view, job_views
from services.library import page_jobs
from services.submissions import NothingToIngest, submit
from services.uploads import BadUpload, Upload, UploadTooLarge

UPLOAD_TYPES = frozenset({"application/octet-stream", "application/mxf"})

# Ingest reads the server's disks and shows its paths and errors: admins only.
router = APIRouter(tags=["ingest"], dependencies=[AdminOnly])


@router.post("/ingest", response_model=IngestOut, status_code=202)
def ingest(svc: Svc, body: IngestIn) -> dict[str, Any]:
    bad = [p for p in body.paths if not p.strip() or "\x00" in p]
    if bad:
        raise HTTPException(422, "paths must be non-empty and contain no NUL characters")
    try:
        job_ids = submit(svc.settings, body.paths, confine=True)
    except BadInput as exc:
        raise HTTPException(403, str(exc)) from None
    except NothingToIngest as exc:
        raise HTTPException(422, str(exc)) from None
    start(svc.settings, job_ids, background=svc.ingest)
    return {"jobs": job_views(svc.settings, job_ids)}


@router.post(
    "/ingest/upload",
    response_model=IngestOut,
    status_code=202,
    responses={
        413: {"description": "Over VIDSEARCH_MAX_UPLOAD_BYTES; nothing is kept"},
        415: {"description": "Not sent as application/octet-stream or video/*"},
        422: {"description": "Not a video file name, or an empty upload"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
                "video/*": {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
)
async def upload(
    request: Request,
    name: Annotated[
        str, Query(min_length=1, max_length=1024, description="The file's name, e.g. trip.mp4.")
    ],
) -> dict[str, Any]:
    """Send a video file itself as the request body (not a form); it is kept under the server's
    uploads folder and indexed like any other. Only a whole upload within the size limit is
    kept; the job runs as one from ``POST /ingest`` does."""
    svc = get_services(request)
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if kind not in UPLOAD_TYPES and not kind.startswith("video/"):
        # A page on another site can send text/plain or a typeless body without asking; a real
        # upload says what it is.
        raise HTTPException(
            415,
            f"an upload's Content-Type must be application/octet-stream or video/* "
            f"(got {kind or 'none'})",
        )
    try:
        sink = await run_in_threadpool(Upload, svc.settings, name)
    except BadUpload as exc:
        raise HTTPException(422, str(exc)) from None
    try:
        async for chunk in request.stream():
            if chunk:
                await run_in_threadpool(sink.write, chunk)
        path = await run_in_threadpool(sink.finish)
    except UploadTooLarge as exc:
        raise HTTPException(413, str(exc)) from None
    except BadUpload as exc:
        raise HTTPException(422, str(exc)) from None
    except BaseException:
        sink.abort()  # a cut-off or refused body leaves nothing behind
        raise
    job_ids = await run_in_threadpool(submit, svc.settings, [path], confine=True)
    await run_in_threadpool(start, svc.settings, job_ids, background=svc.ingest)
    return {"jobs": await run_in_threadpool(job_views, svc.settings, job_ids)}


@router.get("/jobs", response_model=JobsOut)
def jobs(
    settings: AppSettings,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_PAGE_OFFSET)] = 0,
) -> dict[str, Any]:
    page = page_jobs(settings, limit=limit, offset=offset)
    return {"jobs": page.items, "total": page.total}


@router.get("/jobs/{job_id}", response_model=JobOut)
def job(settings: AppSettings, job_id: Annotated[int, ApiPath(ge=1, le=2**31 - 1)]) -> JobView:
    return job_view(settings, job_id)
