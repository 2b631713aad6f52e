"""The HTTP API (FastAPI) over search, summaries and ingest.

Endpoints are plain ``def`` functions, so FastAPI runs them in its thread pool: model work and
database calls never block the event loop. Models load once, in the lifespan.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, File, HTTPException, Query, Request, UploadFile
from fastapi import Path as ApiPath
from fastapi.responses import FileResponse, JSONResponse

from api.schemas import (
    HealthOut,
    IngestIn,
    IngestOut,
    JobOut,
    SearchOut,
    SegmentOut,
    SummaryOut,
    VideoDetailOut,
    VideosOut,
)
from core.catalog import get_job, job_summary, list_videos, video_summary
from core.db import session_scope
from core.models import Job, Segment, Video, VideoStatus
from core.settings import Settings, get_settings
from core.vectors import SearchFilter
from search.service import SearchService
from search.summary import Summaries, summaries_for
from search.types import MAX_LIMIT, MAX_OFFSET, MAX_QUERY_CHARS, QueryError
from videobert.embedder import load_embedder

log = logging.getLogger(__name__)
MAX_UPLOAD_BYTES = 20 * 1024 * 1024


class Services:
    """What the endpoints share, made once per process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.embedder = load_embedder(settings)
        self.search = SearchService(settings, self.embedder)
        self.summaries: Summaries = summaries_for(settings, self.embedder.embed_text)
        self.ingest_queue: queue.Queue[int] = queue.Queue()
        self._runner: threading.Thread | None = None
        self._stopping = threading.Event()

    def warm_up(self) -> None:
        self.embedder.embed_text(["warm up"])
        self.search.live.ensure_fresh()

    def run_embedded_jobs(self, job_ids: list[int]) -> None:
        """Embedded mode: one background thread works through ingest jobs in order."""
        for job_id in job_ids:
            self.ingest_queue.put(job_id)
        if self._runner is None or not self._runner.is_alive():
            self._runner = threading.Thread(target=self._drain, name="ingest", daemon=True)
            self._runner.start()

    def shutdown(self, timeout: float = 60.0) -> None:
        """Let the job in hand finish (queued ones stay queued in the catalog), then stop."""
        self._stopping.set()
        if self._runner is not None:
            self._runner.join(timeout)

    def _drain(self) -> None:
        from indexer.pipeline import fail_job, run_ingest_job
        from search.tasks import summarize_video_now

        while not self._stopping.is_set():
            try:
                job_id = self.ingest_queue.get(timeout=1.0)
            except queue.Empty:
                return
            try:
                if (
                    run_ingest_job(job_id, settings=self.settings) == "succeeded"
                    and self.settings.summaries_at_index
                ):
                    with session_scope(self.settings) as session:
                        job = session.get(Job, job_id)
                        video_id = job.video_id if job else None
                    if video_id:
                        summarize_video_now(self.settings, video_id)
            except Exception as exc:  # keep the thread alive for the next job
                log.exception("ingest job %s", job_id)
                fail_job(self.settings, job_id, f"job {job_id}: {exc}")


def _services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


# Module level: with postponed annotations FastAPI resolves these names in the module's globals.
Svc = Annotated[Services, Depends(_services)]


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = Services(settings)
        services.warm_up()
        app.state.services = services
        yield
        services.shutdown()

    app = FastAPI(
        title="vidsearch",
        version="0.1.0",
        description="Search your videos by text or picture, jump to the moment, read summaries.",
        lifespan=lifespan,
    )

    @app.exception_handler(QueryError)
    async def _query_error(_request: Request, exc: QueryError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": str(exc)})

    @app.exception_handler(LookupError)
    async def _not_found(_request: Request, exc: LookupError) -> JSONResponse:
        return JSONResponse(status_code=404, content={"detail": str(exc).strip("'\"")})

    @app.get("/health", response_model=HealthOut)
    def health(svc: Svc) -> dict[str, Any]:
        with session_scope(svc.settings) as session:
            ready = len(list_videos(session=session, status=VideoStatus.READY))
        mode = "served" if not svc.settings.embedded_tasks else "embedded"
        return {"status": "ok", "videos": ready, "mode": mode}

    @app.get("/search", response_model=SearchOut)
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
    ) -> dict[str, Any]:
        flt = SearchFilter(
            min_duration=min_duration,
            max_duration=max_duration,
            ingested_after=ingested_after,
            ingested_before=ingested_before,
            has_speech=has_speech,
            folder=folder or None,
        )
        return svc.search.search(q, limit=limit, offset=offset, flt=flt).to_json()

    @app.post("/search/image", response_model=SearchOut)
    def search_image(
        svc: Svc,
        image: Annotated[UploadFile, File(description="A picture (JPEG, PNG, ...).")],
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 10,
    ) -> dict[str, Any]:
        data = image.file.read(MAX_UPLOAD_BYTES + 1)
        if len(data) > MAX_UPLOAD_BYTES:
            raise HTTPException(413, f"image is over {MAX_UPLOAD_BYTES} bytes")
        return svc.search.search_image(data, limit=limit).to_json()

    @app.get("/videos", response_model=VideosOut)
    def videos(
        svc: Svc,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        offset: Annotated[int, Query(ge=0)] = 0,
        status: Annotated[str | None, Query(pattern="^(pending|processing|ready|failed)$")] = None,
    ) -> dict[str, Any]:
        with session_scope(svc.settings) as session:
            rows = list_videos(session=session, status=status)
            return {
                "videos": [video_summary(v) for v in rows[offset : offset + limit]],
                "total": len(rows),
            }

    def _video_or_404(session: Any, video_id: str) -> Video:
        video = session.get(Video, video_id)
        if video is None:
            raise HTTPException(404, f"no video {video_id}")
        return video  # type: ignore[no-any-return]

    @app.get("/videos/{video_id}", response_model=VideoDetailOut)
    def video(svc: Svc, video_id: str) -> dict[str, Any]:
        with session_scope(svc.settings) as session:
            v = _video_or_404(session, video_id)
            return {
                **video_summary(v),
                "width": v.width,
                "height": v.height,
                "fps": v.fps,
                "video_codec": v.video_codec,
                "audio_codec": v.audio_codec,
                "segment_list": [
                    SegmentOut(
                        index=s.index,
                        start=s.start,
                        end=s.end,
                        transcript=s.transcript,
                        tags=s.tags,
                        thumbnail_url=f"/videos/{v.id}/segments/{s.index}/thumbnail",
                    ).model_dump()
                    for s in v.segments
                ],
            }

    @app.get("/videos/{video_id}/summary", response_model=SummaryOut)
    def summary(
        svc: Svc,
        video_id: str,
        q: Annotated[
            str | None, Query(max_length=MAX_QUERY_CHARS, description="Focus on these words.")
        ] = None,
        segments: Annotated[str | None, Query(pattern=r"^\d{1,6}(,\d{1,6}){0,99}$")] = None,
    ) -> dict[str, Any]:
        with session_scope(svc.settings) as session:
            _video_or_404(session, video_id)
            if q and q.strip():
                if segments:
                    wanted = [int(x) for x in segments.split(",")]
                else:
                    wanted = [
                        m.segment
                        for r in svc.search.search(q, limit=MAX_LIMIT).results
                        if r.video_id == video_id
                        for m in r.moments
                    ]
                if not wanted:
                    raise HTTPException(404, f"no moment of video {video_id} matches {q!r}")
                return svc.summaries.for_moments(
                    session=session, video_id=video_id, query=q, segments=wanted
                ).to_json()
            return svc.summaries.for_video(session=session, video_id=video_id).to_json()

    @app.get("/videos/{video_id}/similar", response_model=SearchOut)
    def similar(
        svc: Svc,
        video_id: str,
        segment: Annotated[int | None, Query(ge=0, le=10**6)] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 10,
    ) -> dict[str, Any]:
        return svc.search.more_like_this(video_id, segment=segment, limit=limit).to_json()

    @app.get(
        "/videos/{video_id}/segments/{index}/thumbnail",
        response_class=FileResponse,
        responses={200: {"content": {"image/jpeg": {}}}},
    )
    def thumbnail(
        svc: Svc, video_id: str, index: Annotated[int, ApiPath(ge=0, le=10**6)]
    ) -> FileResponse:
        with session_scope(svc.settings) as session:
            seg = session.query(Segment).filter_by(video_id=video_id, index=index).one_or_none()
            if seg is None or not seg.thumbnail:
                raise HTTPException(404, f"no segment {index} in video {video_id}")
            path = svc.settings.thumbnails_dir / seg.thumbnail
        if not path.is_file():
            raise HTTPException(404, f"thumbnail of segment {index} of video {video_id} is missing")
        return FileResponse(path, media_type="image/jpeg")

    @app.get(
        "/videos/{video_id}/stream",
        response_class=FileResponse,
        responses={
            200: {"content": {"video/*": {}}},
            206: {"description": "Partial content"},
            416: {"description": "Range not satisfiable"},
        },
    )
    def stream(svc: Svc, video_id: str) -> FileResponse:
        """The video file itself; Range requests let a browser seek to a moment."""
        with session_scope(svc.settings) as session:
            v = _video_or_404(session, video_id)
            candidates = [v.source_path] + [p.path for p in v.paths]
        for candidate in candidates:
            if Path(candidate).is_file():
                return FileResponse(
                    candidate,
                    media_type=_media_type(candidate),
                    filename=Path(candidate).name,
                    content_disposition_type="inline",
                )
        raise HTTPException(410, f"video {video_id}'s file is gone from {candidates[0]}")

    @app.post("/ingest", response_model=IngestOut, status_code=202)
    def ingest(svc: Svc, body: IngestIn) -> dict[str, Any]:
        from indexer.submit import create_jobs, dispatch, expand_paths

        bad = [p for p in body.paths if not p.strip() or "\x00" in p]
        if bad:
            raise HTTPException(422, "paths must be non-empty and contain no NUL characters")
        roots = [r.expanduser().resolve() for r in svc.settings.allowed_roots]
        if roots:
            # Checked before any folder is walked: the API must not crawl the server's disks.
            outside = [
                p for p in body.paths if not any(Path(p).resolve().is_relative_to(r) for r in roots)
            ]
            if outside:
                raise HTTPException(
                    403, f"outside the allowed roots ({', '.join(map(str, roots))}): {outside[0]}"
                )
        paths = list(expand_paths(Path(p) for p in body.paths))
        if not paths:
            raise HTTPException(422, "no video files found under the given paths")
        job_ids = create_jobs(paths, svc.settings)
        if svc.settings.embedded_tasks:
            svc.run_embedded_jobs(job_ids)
        else:
            dispatch(job_ids, svc.settings)
        with session_scope(svc.settings) as session:
            jobs = [get_job(session=session, job_id=j) for j in job_ids]
            return {"jobs": [job_summary(j) for j in jobs if j is not None]}

    @app.get("/jobs/{job_id}", response_model=JobOut)
    def job(svc: Svc, job_id: Annotated[int, ApiPath(ge=1, le=2**31 - 1)]) -> dict[str, Any]:
        with session_scope(svc.settings) as session:
            found = get_job(session=session, job_id=job_id)
            if found is None:
                raise HTTPException(404, f"no job {job_id}")
            return job_summary(found)

    return app


def _media_type(path: str) -> str:
    suffix = Path(path).suffix.lower()
    return {
        ".mp4": "video/mp4",
        ".m4v": "video/mp4",
        ".mov": "video/quicktime",
        ".webm": "video/webm",
        ".mkv": "video/x-matroska",
        ".avi": "video/x-msvideo",
        ".mpg": "video/mpeg",
        ".mpeg": "video/mpeg",
    }.get(suffix, "application/octet-stream")
