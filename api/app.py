"""The HTTP API (FastAPI): one router per resource (api/routers), the use cases behind them in
services/, who may call what in api/auth.py, request limits in api/limits.py.

Endpoints are plain ``def`` functions, so FastAPI runs them in its thread pool: model work and
database calls never block the event loop. Models load once, in the lifespan.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError

from api.auth import Access
from api.deps import Services
from api.docs import add_offline_docs
from api.guards import RequestGuard, accepted_hosts
from api.limits import JSON_BODY_BYTES, BodyLimit
from api.routers import health, jobs, maintenance, search, users, videos
from api.routers.search import MAX_UPLOAD_BYTES
from core.errors import TransientError
from core.logs import install_redaction
from core.settings import Settings, get_settings
from search.types import QueryError
from services.users import EventError, UserError, UserExists

log = logging.getLogger("vidsearch.api")

# A refused event's code (core.users.EventError) and its HTTP status; any other code is 422.
EVENT_STATUS = {"unknown_video": 404, "conflict": 409}
MULTIPART_SLACK = 64 * 1024  # form boundaries and headers around an uploaded picture
UPLOAD_PATH = "/ingest/upload"


def create_app(settings: Settings | None = None, *, host: str | None = "127.0.0.1") -> FastAPI:
    """The app for these settings. ``host``: the address the server is bound to, which decides
    whether ``VIDSEARCH_AUTH=auto`` means local single-user mode (loopback) or tokens."""
    settings = settings or get_settings()
    install_redaction()
    access = Access.decide(settings, host)
    log.info("vidsearch API: %s", access.describe())

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
        description="Search your videos by text or picture, jump to the moment, read summaries; "
        "record what you watch and get recommendations. Every endpoint but /health takes an "
        "API token (Authorization: Bearer), unless the server runs in local single-user mode.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.access = access
    add_offline_docs(app)

    def body_limit(path: str) -> int:
        if path == UPLOAD_PATH:
            return settings.max_upload_bytes
        if path == "/search/image":
            return MAX_UPLOAD_BYTES + MULTIPART_SLACK
        return JSON_BODY_BYTES

    app.add_middleware(BodyLimit, limit_for=body_limit)
    # Outermost but for CORS: a foreign Host or another website's POST never reaches a route.
    app.add_middleware(
        RequestGuard,
        hosts=accepted_hosts(settings, host, access.mode),
        allowed_hosts=settings.allowed_hosts,
        cors_origins=settings.cors_origins,
    )
    if settings.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Range"],
            expose_headers=["Content-Range", "Accept-Ranges", "Retry-After"],
        )

    @app.exception_handler(QueryError)
    async def _query_error(_request: Request, exc: QueryError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": str(exc)})

    @app.exception_handler(EventError)
    async def _bad_event(_request: Request, exc: EventError) -> JSONResponse:
        status = EVENT_STATUS.get(exc.code, 422)
        return JSONResponse(status_code=status, content={"detail": str(exc), "code": exc.code})

    @app.exception_handler(UserExists)
    async def _taken(_request: Request, exc: UserExists) -> JSONResponse:
        return JSONResponse(status_code=409, content={"detail": str(exc)})

    @app.exception_handler(UserError)
    async def _bad_user(_request: Request, exc: UserError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": str(exc)})

    @app.exception_handler(LookupError)
    async def _not_found(_request: Request, exc: LookupError) -> JSONResponse:
        return JSONResponse(status_code=404, content={"detail": str(exc).strip("'\"")})

    @app.exception_handler(OperationalError)
    @app.exception_handler(TransientError)
    async def _unavailable(_request: Request, exc: Exception) -> JSONResponse:
        # The catalog (or the index) is restarting or unreachable: say so, and when to retry,
        # rather than a 500; nothing was changed by the refused request.
        log.warning("answered 503: %s", str(exc).splitlines()[0][:300])
        return JSONResponse(
            status_code=503,
            content={"detail": "the catalog or the vector index is unavailable; retry shortly"},
            headers={"Retry-After": "2"},
        )

    for module in (health, search, videos, jobs, maintenance, users):
        app.include_router(module.router)
    return app
