"""Users, their API tokens, their watch events and history, as every front end uses them.

Each function opens its own session and returns plain dicts. A user is named one of two ways:
``user_id`` (the HTTP API: the id its token proved) must exist; ``name`` (the local command line,
which acts as the machine's owner) must exist too, unless an event is recorded with ``create``:
then it is made in the same transaction as the event, so a refused event leaves no new user
behind either (and a typo in ``--user`` is an error, not a new profile).

Errors are core.users' own, re-exported here for the front ends to map: UserError (a name or
role that cannot be stored), UnknownUser (no such user, or one the caller may not see),
UserExists (a UserError: the name is taken), NotAuthorized (no token or a bad one), EventError
(a refused event, with its ``code``), and Forbidden (a good token whose user may not do this);
and core.db's CatalogUnavailable, raised while the catalog cannot be reached."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core import users as repo
from core.answers import EventView, UserView
from core.db import CatalogUnavailable, session_scope
from core.models import User, UserRole
from core.passwords import PasswordError
from core.settings import Settings
from core.users import EventError, NotAuthorized, UnknownUser, UserError, UserExists

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = [
    "CatalogUnavailable",
    "EventError",
    "Forbidden",
    "NotAuthorized",
    "PasswordError",
    "UnknownUser",
    "UserError",
    "UserExists",
    "add_user",
    "authenticate",
    "authorize",
    "history",
    "list_users",
    "local_user",
    "new_token",
    "record_event",
    "user_id_of",
]

HISTORY_MAX = 1000  # events one history call returns at most


class Forbidden(PermissionError):
    """A valid token whose user may not do this (only an admin creates users over HTTP)."""


def _user_in(
    session: Session, *, user_id: int | None, name: str | None, create: bool = False
) -> User:
    """The user a call is about: by id or by name, which must exist unless ``create`` (the
    command line's ``event --create``) makes it."""
    if name is not None and user_id is None:
        if create:
            return repo.ensure_user(session=session, name=name)
        user = repo.get_user_by_name(session=session, name=repo.check_name(name))
        if user is None:
            raise UnknownUser(
                f"no user called {name.strip()!r} (vidsearch user add NAME adds one; "
                "vidsearch event --create names one into being)"
            )
        return user
    if user_id is not None and name is None:
        user = repo.get_user(session=session, user_id=user_id)
        if user is None:
            raise UnknownUser(f"user {user_id} does not exist")
        return user
    raise TypeError("name the user by user_id or by name, not both or neither")


def _with_token(user: User, token: str) -> dict[str, Any]:
    return {**repo.user_summary(user), "token": token}


# --- users and tokens ----------------------------------------------------------------------------


def add_user(
    settings: Settings, name: str, *, admin: bool = False, password: str | None = None
) -> dict[str, Any]:
    """A new user with its API token under ``"token"``: shown this once, stored only hashed;
    with ``password``, one for the web UI too. UserError for a bad or taken name, PasswordError
    for a bad password (and then no user is made)."""
    role = UserRole.ADMIN if admin else UserRole.USER
    with session_scope(settings) as session:
        user, token = repo.add_user(session=session, name=name, role=role)
        if password is not None:
            repo.set_password(session=session, user_id=user.id, password=password)
        return _with_token(user, token)


def list_users(settings: Settings) -> list[UserView]:
    """Every user, oldest first; never a token or its hash (``has_token`` says whether one exists)."""
    with session_scope(settings) as session:
        return [repo.user_summary(u) for u in repo.list_users(session=session)]


def new_token(settings: Settings, name: str) -> dict[str, Any]:
    """A new API token for the user called ``name`` (UnknownUser if there is none): the old one
    stops working at once."""
    with session_scope(settings) as session:
        user = repo.get_user_by_name(session=session, name=repo.check_name(name))
        if user is None:
            raise UnknownUser(f"no user called {name.strip()!r}")
        return _with_token(user, repo.issue_token(session=session, user_id=user.id))


def local_user(settings: Settings, name: str) -> UserView:
    """The user called ``name``, created (without a token) if there is none yet."""
    with session_scope(settings) as session:
        return repo.user_summary(repo.ensure_user(session=session, name=name))


def user_id_of(settings: Settings, *, user_id: int | None = None, name: str | None = None) -> int:
    """The id of the user a call names (see the module's docstring); UnknownUser for a name
    nobody has."""
    if user_id is not None and name is None:
        return user_id  # whoever reads with it checks that it exists
    with session_scope(settings) as session:
        return _user_in(session, user_id=user_id, name=name).id


def authenticate(settings: Settings, token: str | None, *, admin: bool = False) -> UserView:
    """The user an API token belongs to. NotAuthorized: no token, or one that matches nobody
    (the comparison takes the same time either way); Forbidden: ``admin`` asked and the user is
    not one."""
    with session_scope(settings) as session:
        user = repo.verify_token(session=session, token=token)
        if user is None:
            raise NotAuthorized("missing or invalid API token")
        if admin and user.role != UserRole.ADMIN:
            raise Forbidden(f"user {user.name!r} is not an admin")
        return repo.user_summary(user)


def authorize(settings: Settings, token: str | None, user_id: int) -> UserView:
    """The token's user, if it may read ``user_id``'s history, events and recommendations:
    NotAuthorized (HTTP 401) for no token or a bad one, UnknownUser (HTTP 404) for any other
    user's id, existing or not, so an id tells nobody whether someone exists."""
    with session_scope(settings) as session:
        return repo.user_summary(repo.authorize(session=session, token=token, user_id=user_id))


# --- events and history --------------------------------------------------------------------------


def record_event(
    settings: Settings,
    *,
    video_id: str,
    kind: str,
    position: float | None = None,
    client_event_id: str | None = None,
    user_id: int | None = None,
    name: str | None = None,
    create: bool = False,
) -> dict[str, Any]:
    """Store one watch event (for the user ``name`` names, made first when ``create``); returns it (core.users.event_summary) with ``"created"``: False when
    the same client event id was stored before (the first one is returned). EventError (nothing is
    written, not even a user named for the first time): unknown kind or video, a video not ready,
    a missing, negative or non-finite position or one past the video's end, a client event id
    reused for a different event (code ``conflict``)."""
    with session_scope(settings) as session:
        user = _user_in(session, user_id=user_id, name=name, create=create)
        event, created = repo.record_event(
            session=session,
            user_id=user.id,
            video_id=video_id,
            kind=kind,
            position=position,
            client_event_id=client_event_id,
        )
        return {**repo.event_summary(event), "created": created}


def history(
    settings: Settings,
    *,
    user_id: int | None = None,
    name: str | None = None,
    limit: int = 50,
    before_id: int | None = None,
) -> list[EventView]:
    """The user's events, newest first; ``before_id`` pages back (ValueError for a limit
    outside 1..HISTORY_MAX)."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= HISTORY_MAX:
        raise ValueError(f"limit {limit!r} must be between 1 and {HISTORY_MAX}")
    with session_scope(settings) as session:
        user = _user_in(session, user_id=user_id, name=name)
        events = repo.history(session=session, user_id=user.id, limit=limit, before_id=before_id)
        return [repo.event_summary(e) for e in events]
