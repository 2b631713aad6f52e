"""``/ingest`` and ``/jobs``: index files or folders on the server, and follow the jobs."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from fastapi import Path as ApiPath

from api.deps import AppSettings, Svc
from api.schemas import MAX_PAGE_OFFSET, IngestIn, IngestOut, JobOut, JobsOut
from core.errors import BadInput
from services.ingest import NothingToIngest, job_view, job_views, start, submit
from services.library import page_jobs

router = APIRouter(tags=["ingest"])


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


@router.get("/jobs", response_model=JobsOut)
def jobs(
    settings: AppSettings,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_PAGE_OFFSET)] = 0,
) -> dict[str, Any]:
    page = page_jobs(settings, limit=limit, offset=offset)
    return {"jobs": page.items, "total": page.total}


@router.get("/jobs/{job_id}", response_model=JobOut)
def job(
    settings: AppSettings, job_id: Annotated[int, ApiPath(ge=1, le=2**31 - 1)]
) -> dict[str, Any]:
    return job_view(settings, job_id)
