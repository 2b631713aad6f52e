"""Who is calling, and what they may do: API tokens (``Authorization: Bearer <token>``), roles,
local single-user mode (api/guards.py decides it) and the per-caller rate limit, as FastAPI
dependencies.

| caller | may |
|---|---|
| nobody (no token) | ``/health`` (and the API docs); in local mode, whatever an admin may |
| a user's token | search, browse and watch the library, record its own events, read its own history, recommendations and continue watching |
| an admin's token | that, and ingest, upload, delete, re-index, train, see jobs, create users |

No token where one is needed, or one that matches nobody, is 401 with ``WWW-Authenticate:
Bearer``; a user's token where an admin's is needed is 403; a good token asking about another
user's id is 404, exactly as for an id nobody has, so ids reveal nothing. Local mode
(``VIDSEARCH_AUTH=off``, or ``auto`` with the server bound to a loopback address) lets a request
without a token act as the machine's owner, as the command line does; in ``auto`` a request that
came through a proxy (any proxy header: api/guards.PROXY_HEADERS) still needs a token. A
token that is sent is always checked. Per-user endpoints always need that user's token: there is
no other way to know who is watching.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.deps import AppSettings
from api.guards import Mode
from api.guards import is_loopback as is_loopback  # the tests and the CLI ask here
from api.limits import RateLimiter
from core.models import UserRole
from core.settings import Settings
from services.users import CatalogUnavailable, NotAuthorized, authenticate

log = logging.getLogger(__name__)

bearer = HTTPBearer(
    auto_error=False,  # we answer 401 (not 403) with a WWW-Authenticate header ourselves
    description="The API token `vidsearch user add NAME` prints (or `POST /users` returns).",
)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
OWNER: dict[str, Any] = {"user_id": None, "name": "local owner", "role": UserRole.ADMIN}


class TokenCheck:
    """Tokens checked against the catalog at every request (a replaced token stops working at
    once); while the catalog cannot be reached, a token that was good in the last
    ``stale_seconds`` is still taken, so search keeps answering through a database restart.
    Only sha256 digests of tokens are kept in memory."""

    def __init__(self, stale_seconds: float = 300.0, size: int = 10_000) -> None:
        self.stale_seconds = stale_seconds
        self.size = size
        self._good: OrderedDict[str, tuple[float, dict[str, Any]]] = OrderedDict()
        self._lock = threading.Lock()

    def check(self, settings: Settings, token: str) -> dict[str, Any]:
        key = hashlib.sha256(token.encode()).hexdigest()
        try:
            user = authenticate(settings, token)
        except CatalogUnavailable:
            with self._lock:
                seen = self._good.get(key)
            if seen is None or time.monotonic() - seen[0] > self.stale_seconds:
                raise
            return dict(seen[1])
        except NotAuthorized:
            with self._lock:
                self._good.pop(key, None)
            raise
        with self._lock:
            self._good.pop(key, None)
            self._good[key] = (time.monotonic(), dict(user))
            while len(self._good) > self.size:
                self._good.popitem(last=False)
        return dict(user)


@dataclass(frozen=True)
class Access:
    """How this server admits callers (api/guards.Mode, decided once at start-up from
    VIDSEARCH_AUTH and the address it is bound to), its rate limiter and token check."""

    mode: Mode
    limiter: RateLimiter
    tokens: TokenCheck = field(default_factory=TokenCheck)

    @property
    def local(self) -> bool:
        return self.mode.local

    @classmethod
    def decide(cls, settings: Settings, host: str | None) -> Access:
        return cls(Mode.decide(settings, host), RateLimiter(settings.rate_limit_per_minute))

    def describe(self) -> str:
        """The start-up line saying who may call."""
        if self.local:
            return (
                f"auth: off, local single-user mode ({self.mode.reason}); a request without a "
                "token acts as the owner unless it came through a proxy; set "
                "VIDSEARCH_AUTH=required to demand tokens"
            )
        return (
            f"auth: tokens required ({self.mode.reason}); only /health is open; "
            "`vidsearch user add NAME --admin` makes an admin token"
        )

    def admits_anonymous(self, request: Request) -> bool:
        return self.mode.admits_owner(request.headers.keys())


def get_access(request: Request) -> Access:
    return request.app.state.access  # type: ignore[no-any-return]


def _unauthorized(credentials: HTTPAuthorizationCredentials | None) -> HTTPException:
    if credentials is None:
        return HTTPException(
            401, "missing API token (Authorization: Bearer <token>)", {"WWW-Authenticate": "Bearer"}
        )
    return HTTPException(
        401, "invalid API token", {"WWW-Authenticate": 'Bearer error="invalid_token"'}
    )


def _client(request: Request) -> str:
    return f"addr:{request.client.host if request.client else 'unknown'}"


def caller(
    request: Request, settings: AppSettings, credentials: Credentials
) -> dict[str, Any] | None:
    """The token's user (401 for a bad token), the local owner, or None (nobody); charges the
    caller's rate limit: the user's, or the client address's for anyone without a good token
    (so guessing tokens is slowed down too)."""
    access = get_access(request)
    if credentials is None:
        access.limiter.charge(_client(request))
        return dict(OWNER) if access.admits_anonymous(request) else None
    try:
        user = access.tokens.check(settings, credentials.credentials)
    except NotAuthorized:
        access.limiter.charge(_client(request))
        raise _unauthorized(credentials) from None
    access.limiter.charge(f"user:{user['user_id']}")
    return user


Caller = Annotated[dict[str, Any] | None, Depends(caller)]


def anyone(request: Request) -> None:
    """Open endpoints (``/health``): no token is read, so a bad one is no error here (a load
    balancer or a client with an old token still learns whether the service is up); only the
    address's rate limit applies."""
    get_access(request).limiter.charge(_client(request))


def viewer(who: Caller, credentials: Credentials) -> dict[str, Any]:
    """A user or an admin (search, browse, watch): 401 for nobody."""
    if who is None:
        raise _unauthorized(credentials)
    return who


def admin(request: Request, who: Caller, credentials: Credentials) -> dict[str, Any]:
    """An admin (ingest, delete, re-index, train, jobs, users): 401 for nobody, 403 for a user,
    saying why (and, on a local-mode server, that no token at all would be the owner)."""
    if who is None:
        raise _unauthorized(credentials)
    if who["role"] != UserRole.ADMIN:
        why = f"this needs an admin's token; user {who['name']!r} is not an admin"
        if get_access(request).local:
            why += (
                " (on this loopback server a request without any token acts as the machine's "
                "owner, who may do this)"
            )
        raise HTTPException(403, why)
    return who


def current_user(who: Caller, credentials: Credentials) -> dict[str, Any]:
    """The token's own user (their events): the local owner is nobody in particular, so a
    token is needed even in local mode."""
    if who is None or who["user_id"] is None:
        raise _unauthorized(credentials)
    return who


def path_owner(who: Caller, credentials: Credentials, user_id: int) -> dict[str, Any]:
    """The user named by the path's ``{user_id}``, if the token is theirs: 401 without a token
    (in local mode too), 404 for any other id, existing or not."""
    if credentials is None or who is None:
        raise _unauthorized(credentials)
    if who["user_id"] != user_id:
        raise HTTPException(404, f"user {user_id} does not exist")
    return who


Anyone = Depends(anyone)
Viewer = Depends(viewer)
AdminOnly = Depends(admin)
CurrentUser = Annotated[dict[str, Any], Depends(current_user)]
Admin = Annotated[dict[str, Any], Depends(admin)]
Owner = Annotated[dict[str, Any], Depends(path_owner)]
