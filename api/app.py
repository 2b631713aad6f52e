"""The HTTP API (FastAPI): one router per resource (api/routers), the use cases behind them in
services/, who may call what in api/auth.py, request limits in api/limits.py.

Endpoints are plain ``def`` functions, so FastAPI runs them in its thread pool: model work and
database calls never block the event loop. Models load once, in the lifespan.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
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


DESCRIPTION = """Search your videos by text or picture, jump to the moment, read summaries;
record what you watch and get recommendations.

**Who may call what.** Send an API token as `Authorization: Bearer <token>`
(`vidsearch user add NAME [--admin]` prints one).

| caller | may |
|---|---|
| no token | `GET /health` only, unless the server runs in local single-user mode (below) |
| a user's token | search, browse and watch the library; their own events, history, recommendations |
| an admin's token | all that, and ingest, upload, delete, re-index, train, jobs, users |

**Local single-user mode** (`VIDSEARCH_AUTH=auto`, the default, with the server bound to
127.0.0.1, ::1 or localhost): a request *without any token* acts as the machine's owner, who may
do what an admin may, as the command line does. A request *with* a token is that token's user,
with that user's role: a user's token gets 403 on the admin endpoints even here. A request that
came through a proxy (any proxy header) needs a token; a request from another website (its
`Origin` or `Referer`) may not change anything; only the loopback names are answered as `Host`.
The per-user endpoints (`/users/{id}/...`, `POST /events`) always need that user's token.
"""
MAX_ECHO = 100  # characters of a refused input that a 422 quotes back


def _short_errors(errors: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Validation errors with each refused input cut to MAX_ECHO characters: a 5,000-character
    query is not sent back whole."""
    out = []
    for err in errors:
        err = dict(err)
        value = err.get("input")
        if isinstance(value, str) and len(value) > MAX_ECHO:
            err["input"] = value[:MAX_ECHO] + f"… ({len(value)} characters)"
        elif isinstance(value, (bytes, list, dict)) and len(repr(value)) > MAX_ECHO:
            err["input"] = repr(value)[:MAX_ECHO] + "…"
        out.append(err)
    return out


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
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.access = access
    add_offline_docs(app)

    _add_edge(app, settings, host, access)
    _add_error_answers(app)
    for module in (health, search, videos, jobs, maintenance, users):
        app.include_router(module.router)
    return app


def _add_edge(app: FastAPI, settings: Settings, host: str | None, access: Access) -> None:
    """What every request passes before a route: the body limits, the Host and cross-site
    guard, CORS where origins are configured."""

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


def _add_error_answers(app: FastAPI) -> None:
    """Each error type the services raise, as the HTTP answer it means."""

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(
            status_code=422, content={"detail": jsonable_encoder(_short_errors(exc.errors()))}
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
