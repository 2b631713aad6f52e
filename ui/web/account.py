"""The web UI's sign-in endpoints, served beside the Streamlit app by ``ui/web/web_server.py``.

A Streamlit page cannot set an HttpOnly cookie, so signing in is a plain HTML form posted here:

- ``POST /account/signin``: a name and a password, or an API token; on success the browser gets
  a signed, HttpOnly, SameSite=Lax session cookie (core/web_sessions.py) and goes back to the
  page it came from; a refusal goes back with ``?signin=failed`` and says nothing about which
  part was wrong. Failed attempts are rate-limited per address.
- ``POST /account/watch-as``: on the owner's own loopback server (local single-user mode),
  watch as a profile without a password, as the command line's ``--user`` does.
- ``POST /account/signout``: the session is deleted and the cookie cleared.

Every one of them is a state-changing request, so api/guards.RequestGuard refuses it when it
comes from another website."""

from __future__ import annotations

import logging
from collections.abc import Callable
from urllib.parse import urlencode, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from api.guards import Mode
from api.limits import RateLimited, RateLimiter
from core.settings import Settings
from services import web_sessions
from services.web_sessions import NotAuthorized, SignedIn, UnknownUser

log = logging.getLogger("vidsearch.web")

COOKIE = "vidsearch_session"
SIGN_IN, SIGN_OUT, WATCH_AS = "/account/signin", "/account/signout", "/account/watch-as"
FAILED_SIGN_INS_PER_MINUTE = 30  # per address, in bursts of five


def safe_next(value: object) -> str:
    """Where to go after signing in: a path on this server, never another site (``//evil``,
    ``https://evil``, ``/\\evil`` would leave it)."""
    if not isinstance(value, str) or not value.startswith("/") or value.startswith("//"):
        return "/"
    if "\\" in value or any(ord(c) < 0x20 for c in value):
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return "/"
    return value


def _with_query(path: str, **params: str) -> str:
    parts = urlsplit(path)
    query = "&".join(q for q in (parts.query, urlencode(params)) if q)
    return parts.path + (f"?{query}" if query else "")


def _client(request: Request) -> str:
    return f"addr:{request.client.host if request.client else 'unknown'}"


def _signed_in(request: Request, signed: SignedIn, to: str, settings: Settings) -> Response:
    response = RedirectResponse(to, status_code=303)
    response.set_cookie(
        COOKIE,
        signed.cookie,
        max_age=int(settings.session_days * 86400),
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def routes(settings: Settings, mode: Callable[[], Mode]) -> list[Route]:
    """The sign-in routes for this server's settings; ``mode`` says whether it runs in local
    single-user mode (decided once the server knows the address it is bound to)."""
    limiter = RateLimiter(FAILED_SIGN_INS_PER_MINUTE)

    async def sign_in(request: Request) -> Response:
        form = await request.form()
        to = safe_next(form.get("next"))
        # "username", not "name": the page's sanitizer drops a field called "name" (it would
        # shadow the form's own property).
        name, password, token = (str(form.get(k) or "") for k in ("username", "password", "token"))
        try:
            limiter.charge(_client(request))  # every attempt counts; a success costs one too
        except RateLimited as exc:
            return RedirectResponse(
                _with_query("/", signin="slow", next=to),
                status_code=303,
                headers={"Retry-After": exc.headers["Retry-After"] if exc.headers else "10"},
            )
        try:
            if token.strip():
                signed = await run_in_threadpool(web_sessions.sign_in_with_token, settings, token)
            else:
                signed = await run_in_threadpool(
                    web_sessions.sign_in_with_password, settings, name, password
                )
        except NotAuthorized:
            log.info("web sign-in refused from %s", _client(request))
            return RedirectResponse(_with_query("/", signin="failed", next=to), status_code=303)
        log.info("web sign-in: %s (%s)", signed.user["name"], "token" if token else "password")
        return _signed_in(request, signed, to, settings)

    async def watch_as(request: Request) -> Response:
        form = await request.form()
        to = safe_next(form.get("next"))
        if not mode().admits_owner(request.headers.keys()):
            # Only the owner at the machine may pick a profile without its password.
            return RedirectResponse(_with_query("/", signin="needed", next=to), status_code=303)
        try:
            user_id = int(str(form.get("user_id") or ""))
            signed = await run_in_threadpool(web_sessions.sign_in_local, settings, user_id)
        except (ValueError, UnknownUser):
            return RedirectResponse(_with_query(to, profile="gone"), status_code=303)
        return _signed_in(request, signed, to, settings)

    async def sign_out(request: Request) -> Response:
        form = await request.form()
        await run_in_threadpool(web_sessions.sign_out, settings, request.cookies.get(COOKIE))
        response = RedirectResponse(safe_next(form.get("next")), status_code=303)
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax")
        response.headers["Cache-Control"] = "no-store"
        return response

    return [
        Route(SIGN_IN, sign_in, methods=["POST"]),
        Route(WATCH_AS, watch_as, methods=["POST"]),
        Route(SIGN_OUT, sign_out, methods=["POST"]),
    ]
