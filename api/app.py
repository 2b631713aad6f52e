"""The HTTP API (FastAPI): one router per resource (api/routers), the use cases behind them in
services/.

Endpoints are plain ``def`` functions, so FastAPI runs them in its thread pool: model work and
database calls never block the event loop. Models load once, in the lifespan.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from api.deps import Services
from api.docs import add_offline_docs
from api.routers import health, jobs, search, users, videos
from core.settings import Settings, get_settings
from search.types import QueryError
from services.users import EventError, UserError, UserExists

# A refused event's code (core.users.EventError) and its HTTP status; any other code is 422.
EVENT_STATUS = {"unknown_video": 404, "conflict": 409}


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
        description="Search your videos by text or picture, jump to the moment, read summaries; "
        "record what you watch and get recommendations (those endpoints take an API token).",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    add_offline_docs(app)

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

    for module in (health, search, videos, jobs, users):
        app.include_router(module.router)
    return app
