"""Users and their watch events as every front end uses them: add and list users, record an event
(validated), a user's history and what they can continue watching. Each call opens its own
catalog session."""

from __future__ import annotations

from typing import Any

from core import users as repo
from core.db import session_scope
from core.models import UserRole
from core.settings import Settings
from core.users import EventError, UnknownUser, UserError

__all__ = [
    "EventError",
    "UnknownUser",
    "UserError",
    "add_user",
    "continue_watching",
    "history",
    "list_users",
    "record_event",
]


def add_user(
    settings: Settings, name: str, *, role: str = UserRole.USER
) -> tuple[dict[str, Any], str]:
    """A new user (UserError: bad or taken name) and its API token, shown this once."""
    with session_scope(settings) as session:
        user, token = repo.add_user(session=session, name=name, role=role)
        return repo.user_summary(user), token


def list_users(settings: Settings) -> list[dict[str, Any]]:
    with session_scope(settings) as session:
        return [repo.user_summary(u) for u in repo.list_users(session=session)]


def record_event(
    settings: Settings,
    *,
    user_id: int,
    video_id: str,
    kind: str,
    position: float | None = None,
    client_event_id: str | None = None,
) -> tuple[dict[str, Any], bool]:
    """Store one watch event; returns it and whether it is new (a replayed client event id is
    stored once). Raises UnknownUser or EventError (its ``code`` says which rule broke)."""
    with session_scope(settings) as session:
        event, new = repo.record_event(
            session=session,
            user_id=user_id,
            video_id=video_id,
            kind=kind,
            position=position,
            client_event_id=client_event_id,
        )
        return repo.event_summary(event), new


def history(
    settings: Settings, *, user_id: int, limit: int = 50, before_id: int | None = None
) -> list[dict[str, Any]]:
    """The user's events, newest first (UnknownUser for an unknown id)."""
    with session_scope(settings) as session:
        if repo.get_user(session=session, user_id=user_id) is None:
            raise UnknownUser(f"user {user_id} does not exist")
        events = repo.history(session=session, user_id=user_id, limit=limit, before_id=before_id)
        return [repo.event_summary(e) for e in events]


def continue_watching(settings: Settings, *, user_id: int, limit: int = 20) -> list[dict[str, Any]]:
    """Started and not finished, most recent first, with where to resume (UnknownUser)."""
    with session_scope(settings) as session:
        if repo.get_user(session=session, user_id=user_id) is None:
            raise UnknownUser(f"user {user_id} does not exist")
        rows = repo.continue_watching(session=session, user_id=user_id, limit=limit)
        return [repo.continue_summary(r) for r in rows]
