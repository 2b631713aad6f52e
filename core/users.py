"""Users, their API tokens and their watch events: keyword-only repository functions over the catalog."""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import and_, case, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, joinedload

from core.answers import ContinueView, EventView, UserView
from core.models import Event, EventKind, User, UserRole, Video, VideoStatus, utcnow
from core.names import name_key
from core.passwords import hash_password, needs_rehash, verify_password
from core.web_sessions import close_user_sessions

# A token names its user, so checking it is one primary-key read and one constant-time
# comparison of hashes (no lookup keyed by the secret itself).
TOKEN_PREFIX = "vsu"
_TOKEN_RE = re.compile(rf"^{TOKEN_PREFIX}_(\d{{1,10}})_([A-Za-z0-9_-]{{20,200}})$")
_MAX_ID = 2**31 - 1  # users.id is a 32-bit integer; PostgreSQL refuses to even compare a bigger one
# A player that stops this close to the end has finished: credits are rarely watched.
FINISHED_FRACTION = 0.95
# Aliases the command line offers: `--kind watched` is the start of a watch.
KIND_ALIASES = {"watched": EventKind.STARTED}
NAME_MAX = 200
CLIENT_EVENT_ID_MAX = 100
_NAME_RE = re.compile(r"^[^\x00-\x1f\x7f]+$")


class UserError(ValueError):
    """A user name or role that cannot be stored; the message names the value and why."""


class UserExists(UserError):
    """The name is taken."""


class UnknownUser(LookupError):
    """No such user, or one the caller may not see: the same answer, so ids reveal nothing."""


class NotAuthorized(Exception):
    """No token, or a token that matches nobody."""


class EventError(ValueError):
    """An event that cannot be stored; nothing was written. ``code`` says which rule it broke
    (unknown_kind, bad_position, bad_client_event_id, unknown_video, video_not_ready, conflict),
    the message names the offending value."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


# --- users and tokens ----------------------------------------------------------------------------


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token(user_id: int) -> str:
    return f"{TOKEN_PREFIX}_{user_id}_{secrets.token_urlsafe(32)}"


def check_name(name: str) -> str:
    """A user name as stored: stripped, 1 to NAME_MAX characters, no control characters."""
    cleaned = name.strip() if isinstance(name, str) else ""
    if not cleaned or len(cleaned) > NAME_MAX or not _NAME_RE.match(cleaned):
        raise UserError(
            f"user name {name!r} must be 1 to {NAME_MAX} printable characters (got {len(cleaned)})"
        )
    return cleaned


def get_user(*, session: Session, user_id: int) -> User | None:
    """The user, or None; also for an id no user can have (an API path holds any integer)."""
    if isinstance(user_id, bool) or not isinstance(user_id, int) or not 0 < user_id <= _MAX_ID:
        return None
    return session.get(User, user_id)


def get_user_by_name(*, session: Session, name: str) -> User | None:
    """The user whose name reads the same as ``name`` (core/names.py: case, width and invisible
    characters aside), or None."""
    return session.scalar(select(User).where(User.name_key == name_key(name)))


def list_users(*, session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.id)))


def _create_user(*, session: Session, name: str, role: str) -> User:
    name = check_name(name)
    if role not in UserRole.ALL:
        raise UserError(f"role {role!r} is not one of {', '.join(UserRole.ALL)}")
    if not name_key(name):
        raise UserError(f"user name {name!r} has no visible characters")
    taken = get_user_by_name(session=session, name=name)
    if taken is not None:
        if taken.name == name:
            raise UserExists(f"user {name!r} already exists")
        raise UserExists(f"user name {name!r} is taken: it reads the same as {taken.name!r}")
    user = User(name=name, role=role)
    try:
        with session.begin_nested():  # another process may have taken the name since the check
            session.add(user)
            session.flush()
    except IntegrityError:
        raise UserExists(f"user {name!r} already exists") from None
    return user


def add_user(*, session: Session, name: str, role: str = UserRole.USER) -> tuple[User, str]:
    """Create a user; returns it with its API token, which is not stored and cannot be shown again."""
    user = _create_user(session=session, name=name, role=role)
    return user, issue_token(session=session, user_id=user.id)


def ensure_user(*, session: Session, name: str) -> User:
    """The user called ``name``, created (without a token) if there is none: the local command line
    acts as the machine's owner and may name users into being. `issue_token` gives one HTTP access."""
    user = get_user_by_name(session=session, name=check_name(name))
    if user is not None:
        return user
    try:
        return _create_user(session=session, name=name, role=UserRole.USER)
    except UserError:  # created by someone else between the read and the insert
        found = get_user_by_name(session=session, name=name)
        if found is None:
            raise
        return found


def issue_token(*, session: Session, user_id: int) -> str:
    """A new API token for the user; the previous one stops working."""
    user = get_user(session=session, user_id=user_id)
    if user is None:
        raise UnknownUser(f"user {user_id} does not exist")
    token = _new_token(user.id)
    user.token_hash = hash_token(token)
    session.flush()
    return token


def verify_token(*, session: Session, token: str | None) -> User | None:
    """The user an API token belongs to, or None (no token, malformed, unknown or replaced)."""
    match = _TOKEN_RE.match(token or "")
    if match is None:
        return None
    user = get_user(session=session, user_id=int(match.group(1)))
    stored = user.token_hash if user is not None else None
    # Compare even when there is nothing to compare with, so a missing user takes as long.
    same = hmac.compare_digest(hash_token(token or ""), stored or "0" * 64)
    return user if same and stored is not None else None


def set_password(*, session: Session, user_id: int, password: str) -> User:
    """Give the user a web UI password (PasswordError if it is too short or too long); every
    browser signed in as them is signed out."""
    user = get_user(session=session, user_id=user_id)
    if user is None:
        raise UnknownUser(f"user {user_id} does not exist")
    user.password_hash = hash_password(password)
    close_user_sessions(session=session, user_id=user.id)
    session.flush()
    return user


def verify_password_of(*, session: Session, name: str, password: str) -> User | None:
    """The user called ``name`` if ``password`` is theirs, else None; the same work is done for
    a name nobody has or a user without a password, so timing tells nothing."""
    user = get_user_by_name(session=session, name=name) if isinstance(name, str) else None
    stored = user.password_hash if user is not None else None
    if not verify_password(stored, password) or user is None:
        return None
    if needs_rehash(stored or ""):
        user.password_hash = hash_password(password)
    return user


def authorize(*, session: Session, token: str | None, user_id: int) -> User:
    """The token's user, if it may read ``user_id``'s history, events and recommendations.
    Raises NotAuthorized (no token or a bad one: HTTP 401) or UnknownUser (another user's id,
    or no such user: HTTP 404, so an id never tells whether someone exists)."""
    actor = verify_token(session=session, token=token)
    if actor is None:
        raise NotAuthorized("missing or invalid API token")
    if actor.id != user_id:
        raise UnknownUser(f"user {user_id} does not exist")
    return actor


def user_summary(user: User) -> UserView:
    """A user as the CLI (`user list --json`) and the API show it: never the token hash."""
    return {
        "user_id": user.id,
        "name": user.name,
        "role": user.role,
        "has_token": user.token_hash is not None,
        "has_password": user.password_hash is not None,
        "created_at": user.created_at.isoformat(),
    }


# --- events --------------------------------------------------------------------------------------


def parse_kind(kind: str) -> str:
    """An event kind as stored, from a stored kind or an alias such as `watched`."""
    canonical = KIND_ALIASES.get(kind, kind)
    if canonical not in EventKind.ALL:
        known = ", ".join(sorted({*EventKind.ALL, *KIND_ALIASES}))
        raise EventError("unknown_kind", f"event kind {kind!r} is not one of {known}")
    return canonical


def _check_position(position: float | None, kind: str) -> float | None:
    if position is None:
        if kind == EventKind.PROGRESS:
            raise EventError("bad_position", "a progress event needs a position (seconds)")
        return None
    if isinstance(position, bool) or not isinstance(position, int | float):
        raise EventError("bad_position", f"position {position!r} is not a number of seconds")
    if not math.isfinite(position) or position < 0:
        raise EventError("bad_position", f"position {position!r} must be 0 or more seconds")
    return float(position)


def _check_client_event_id(client_event_id: str | None) -> str | None:
    if client_event_id is None:
        return None
    if (
        not isinstance(client_event_id, str)
        or not client_event_id.strip()
        or len(client_event_id) > CLIENT_EVENT_ID_MAX
        or not _NAME_RE.match(client_event_id)
    ):
        raise EventError(
            "bad_client_event_id",
            f"client event id {client_event_id!r} must be 1 to {CLIENT_EVENT_ID_MAX} "
            "printable characters",
        )
    return client_event_id


def _same_event(event: Event, video_id: str, kind: str, position: float | None) -> bool:
    return event.video_id == video_id and event.kind == kind and event.position == position


def _replayed(
    session: Session,
    user_id: int,
    client_event_id: str,
    video_id: str,
    kind: str,
    position: float | None,
) -> Event | None:
    """The event stored before under this client id, if any; a different event under the same id
    is a client bug that must not pass silently."""
    event = session.scalar(
        select(Event).where(Event.user_id == user_id, Event.client_event_id == client_event_id)
    )
    if event is not None and not _same_event(event, video_id, kind, position):
        raise EventError(
            "conflict",
            f"client event id {client_event_id!r} was used for a different event "
            f"({event.kind} of {event.video_id} at {event.position})",
        )
    return event


def record_event(
    *,
    session: Session,
    user_id: int,
    video_id: str,
    kind: str,
    position: float | None = None,
    client_event_id: str | None = None,
    at: datetime | None = None,
) -> tuple[Event, bool]:
    """Store one watch event; returns it and whether it is new. An event sent again with the same
    client event id is stored once (the first one is returned, whatever has changed since).

    Raises UnknownUser, or EventError for an unknown kind, a missing, negative or non-finite
    position, one past the video's end, an unknown video or one that is not ready; nothing is
    written then. ``at`` backdates an event (imports, simulations); default: now."""
    if get_user(session=session, user_id=user_id) is None:
        raise UnknownUser(f"user {user_id} does not exist")
    kind = parse_kind(kind)
    position = _check_position(position, kind)
    client_event_id = _check_client_event_id(client_event_id)
    if client_event_id is not None:
        earlier = _replayed(session, user_id, client_event_id, video_id, kind, position)
        if earlier is not None:
            return earlier, False
    # An id no video can have is not looked up: PostgreSQL refuses a NUL byte outright.
    plausible = isinstance(video_id, str) and 0 < len(video_id) <= 64 and _NAME_RE.match(video_id)
    video = session.get(Video, video_id) if plausible else None
    if video is None:
        raise EventError("unknown_video", f"video {video_id!r} does not exist")
    if video.status != VideoStatus.READY:
        raise EventError(
            "video_not_ready", f"video {video_id!r} is {video.status}, not ready to be watched"
        )
    if position is not None and video.duration is not None and position > video.duration:
        raise EventError(
            "bad_position",
            f"position {position:g} s is past the end of video {video_id!r} "
            f"({video.duration:g} s long)",
        )
    event = Event(
        user_id=user_id,
        video_id=video_id,
        kind=kind,
        position=position,
        client_event_id=client_event_id,
        created_at=at or utcnow(),
    )
    try:
        with session.begin_nested():
            session.add(event)
            session.flush()
    except IntegrityError:
        # The same client id arrived twice at once (two retries in flight): the other one won.
        if client_event_id is None:
            raise
        earlier = _replayed(session, user_id, client_event_id, video_id, kind, position)
        if earlier is None:
            raise
        return earlier, False
    return event, True


def history(
    *, session: Session, user_id: int, limit: int = 50, before_id: int | None = None
) -> list[Event]:
    """The user's events, newest first, each with its video loaded; ``before_id`` pages back."""
    query = (
        select(Event)
        .options(joinedload(Event.video))
        .where(Event.user_id == user_id)
        .order_by(Event.id.desc())
        .limit(limit)
    )
    if before_id is not None:
        query = query.where(Event.id < before_id)
    return list(session.scalars(query))


def event_summary(event: Event) -> EventView:
    """An event as the CLI (`event --json`) and the API (`/events`, history) show it."""
    return {
        "event_id": event.id,
        "user_id": event.user_id,
        "video_id": event.video_id,
        "title": event.video.title if event.video is not None else None,
        "kind": event.kind,
        "position": event.position,
        "client_event_id": event.client_event_id,
        "at": event.created_at.isoformat(),
    }


class EventRow(NamedTuple):
    """An event's columns, without the ORM: what the ranker reads for one user."""

    id: int
    video_id: str
    kind: str
    position: float | None
    created_at: datetime


def user_events(*, session: Session, user_id: int, limit: int = 500) -> list[EventRow]:
    """The user's latest events, newest first (older ones weigh next to nothing after decay)."""
    rows = session.execute(
        select(Event.id, Event.video_id, Event.kind, Event.position, Event.created_at)
        .where(Event.user_id == user_id)
        .order_by(Event.id.desc())
        .limit(limit)
    ).all()
    return [EventRow(i, v, k, p, t) for i, v, k, p, t in rows]


def touched_videos(*, session: Session, user_id: int) -> set[str]:
    """Every video the user has any event for: seen, rejected or in progress, so never recommended."""
    return set(session.scalars(select(Event.video_id).where(Event.user_id == user_id).distinct()))


@dataclass(frozen=True)
class InProgress:
    """A video started and not finished, and where to resume it."""

    video: Video
    position: float
    at: datetime


def continue_watching(*, session: Session, user_id: int, limit: int = 20) -> list[InProgress]:
    """Videos whose latest playback event is a start or progress short of the end, and that
    were not skipped or disliked after it; most recently watched first. The resume position is
    that event's (a start without one resumes from the beginning)."""
    latest = (
        select(func.max(Event.id).label("id"))
        .where(Event.user_id == user_id, Event.kind.in_(EventKind.PLAYBACK))
        .group_by(Event.video_id)
        .subquery()
    )
    verdict = aliased(Event)
    rejected_after = exists().where(
        verdict.user_id == user_id,
        verdict.video_id == Event.video_id,
        verdict.kind.in_((EventKind.SKIPPED, EventKind.DISLIKED)),
        verdict.id > Event.id,
    )
    position = func.coalesce(Event.position, 0.0)
    rows = session.execute(
        select(Event, Video)
        .join(latest, latest.c.id == Event.id)
        .join(Video, Video.id == Event.video_id)
        .where(
            Event.kind != EventKind.COMPLETED,
            Video.status == VideoStatus.READY,
            ~rejected_after,
            # Stopped in the credits is finished; a video of unknown length never is.
            (Video.duration.is_(None)) | (position < FINISHED_FRACTION * Video.duration),
        )
        .order_by(Event.id.desc())
        .limit(limit)
    ).all()
    return [InProgress(video, event.position or 0.0, event.created_at) for event, video in rows]


def continue_summary(item: InProgress) -> ContinueView:
    """A continue-watching row as the CLI and the API (`/users/{id}/continue`) show it."""
    duration = item.video.duration
    return {
        "video_id": item.video.id,
        "path": item.video.source_path,
        "title": item.video.title,
        "position": item.position,
        "duration": duration,
        "progress": round(item.position / duration, 4) if duration else None,
        "at": item.at.isoformat(),
    }


# --- across users: what the co-watch model and popularity read ----------------------------------


def newest_event_id(*, session: Session) -> int:
    """The id of the newest event (0: none): moves whenever an event is stored. A primary-key
    lookup, not a count: a count scans every event, 27 ms at 80k events on SQLite."""
    return int(session.scalar(select(func.max(Event.id))) or 0)


def engaged_pairs(*, session: Session, since: datetime | None = None) -> list[tuple[int, str]]:
    """(user, video) for every video a user completed or liked and never disliked: what
    co-watching is counted over."""
    engaged = func.max(case((Event.kind.in_((EventKind.COMPLETED, EventKind.LIKED)), 1), else_=0))
    disliked = func.max(case((Event.kind == EventKind.DISLIKED, 1), else_=0))
    query = select(Event.user_id, Event.video_id).group_by(Event.user_id, Event.video_id)
    if since is not None:
        query = query.where(Event.created_at >= since)
    query = query.having(and_(engaged == 1, disliked == 0))
    return [(int(u), str(v)) for u, v in session.execute(query).all()]


def popularity_counts(*, session: Session, since: datetime | None = None) -> dict[str, int]:
    """How many users started, finished or liked each video (skips and dislikes do not count)."""
    query = (
        select(Event.video_id, func.count(func.distinct(Event.user_id)))
        .where(Event.kind.in_((*EventKind.PLAYBACK, EventKind.LIKED)))
        .group_by(Event.video_id)
    )
    if since is not None:
        query = query.where(Event.created_at >= since)
    return {str(v): int(n) for v, n in session.execute(query).all()}
