"""Signing in to the web UI: with a password or an API token (or, on the owner's own loopback
server, by picking a profile), the browser's session that follows, and signing out. Each
function opens its own catalog session and returns plain dicts; the cookie itself is made and
checked in core/web_sessions.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from core import users as repo
from core import web_sessions as sessions
from core.answers import UserView
from core.db import session_scope
from core.passwords import PasswordError
from core.settings import Settings
from core.users import NotAuthorized, UnknownUser

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from core.models import User

__all__ = [
    "NotAuthorized",
    "PasswordError",
    "SignedIn",
    "UnknownUser",
    "set_password",
    "sign_in_local",
    "sign_in_with_password",
    "sign_in_with_token",
    "sign_out",
    "signed_in_user",
]


@dataclass(frozen=True)
class SignedIn:
    """A new session: the cookie to set, when it expires, and whose it is."""

    cookie: str
    expires_at: datetime
    user: UserView


def _open(settings: Settings, session: Session, user: User, method: str) -> SignedIn:
    sessions.drop_expired(session=session)  # browsers that never came back
    cookie, expires = sessions.open_session(
        session=session,
        user_id=user.id,
        method=method,
        key=sessions.signing_key(settings),
        days=settings.session_days,
    )
    return SignedIn(cookie, expires, repo.user_summary(user))


def sign_in_with_password(settings: Settings, name: str, password: str) -> SignedIn:
    """NotAuthorized (one answer for a wrong name, a wrong password or no password set)."""
    with session_scope(settings) as session:
        user = repo.verify_password_of(session=session, name=name, password=password)
        if user is None:
            raise NotAuthorized("wrong name or password")
        return _open(settings, session, user, "password")


def sign_in_with_token(settings: Settings, token: str) -> SignedIn:
    """NotAuthorized for a token that matches nobody."""
    with session_scope(settings) as session:
        user = repo.verify_token(session=session, token=token.strip())
        if user is None:
            raise NotAuthorized("that API token matches nobody")
        return _open(settings, session, user, "token")


def sign_in_local(settings: Settings, user_id: int) -> SignedIn:
    """Watch as a profile without a password: only for the machine's owner, on a server that
    admits them (local single-user mode; the caller checks). UnknownUser if it is gone."""
    with session_scope(settings) as session:
        user = repo.get_user(session=session, user_id=user_id)
        if user is None:
            raise UnknownUser(f"user {user_id} does not exist")
        return _open(settings, session, user, "local")


def signed_in_user(settings: Settings, cookie: str | None) -> dict[str, Any] | None:
    """The user a browser's cookie signs in (with ``"method"``: how), or None."""
    if not cookie:
        return None
    with session_scope(settings) as session:
        found = sessions.session_user(
            session=session, cookie=cookie, key=sessions.signing_key(settings)
        )
        if found is None:
            return None
        user, row = found
        return {**repo.user_summary(user), "method": row.method}


def sign_out(settings: Settings, cookie: str | None) -> bool:
    with session_scope(settings) as session:
        return sessions.close_session(
            session=session, cookie=cookie, key=sessions.signing_key(settings)
        )


def set_password(settings: Settings, name: str, password: str) -> UserView:
    """Set the web UI password of the user called ``name`` (UnknownUser, PasswordError); their
    browsers are signed out."""
    with session_scope(settings) as session:
        user = repo.get_user_by_name(session=session, name=repo.check_name(name))
        if user is None:
            raise UnknownUser(f"no user called {name.strip()!r}")
        return repo.user_summary(
            repo.set_password(session=session, user_id=user.id, password=password)
        )
