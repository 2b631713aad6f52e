"""Who is calling: the API token sent as ``Authorization: Bearer <token>``.

No token, or one that matches nobody, is 401 with ``WWW-Authenticate: Bearer``; a good token
asking about another user's id is 404, exactly as for an id nobody has, so ids reveal nothing.
Tokens come from ``vidsearch user add NAME`` (or ``POST /users`` with an admin's token)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.deps import AppSettings
from services.users import Forbidden, NotAuthorized, UnknownUser, authenticate, authorize

bearer = HTTPBearer(
    auto_error=False,  # we answer 401 (not 403) with a WWW-Authenticate header ourselves
    description="The API token `vidsearch user add NAME` prints (or `POST /users` returns).",
)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def _unauthorized(credentials: HTTPAuthorizationCredentials | None) -> HTTPException:
    if credentials is None:
        return HTTPException(
            401, "missing API token (Authorization: Bearer <token>)", {"WWW-Authenticate": "Bearer"}
        )
    return HTTPException(
        401, "invalid API token", {"WWW-Authenticate": 'Bearer error="invalid_token"'}
    )


def _token(credentials: HTTPAuthorizationCredentials | None) -> str | None:
    return credentials.credentials if credentials is not None else None


def current_user(settings: AppSettings, credentials: Credentials) -> dict[str, Any]:
    """The user the token belongs to (401 without a good one)."""
    try:
        return authenticate(settings, _token(credentials))
    except NotAuthorized:
        raise _unauthorized(credentials) from None


def current_admin(settings: AppSettings, credentials: Credentials) -> dict[str, Any]:
    """An admin's token (401 without a good one, 403 for a user who is not an admin)."""
    try:
        return authenticate(settings, _token(credentials), admin=True)
    except NotAuthorized:
        raise _unauthorized(credentials) from None
    except Forbidden as exc:
        raise HTTPException(403, str(exc)) from None


def path_owner(settings: AppSettings, credentials: Credentials, user_id: int) -> dict[str, Any]:
    """The user named by the path's ``{user_id}``, if the token is theirs (401, else 404)."""
    try:
        return authorize(settings, _token(credentials), user_id)
    except NotAuthorized:
        raise _unauthorized(credentials) from None
    except UnknownUser:
        raise HTTPException(404, f"user {user_id} does not exist") from None


CurrentUser = Annotated[dict[str, Any], Depends(current_user)]
Admin = Annotated[dict[str, Any], Depends(current_admin)]
Owner = Annotated[dict[str, Any], Depends(path_owner)]
