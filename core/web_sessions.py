"""Signed-in browsers of the web UI: keyword-only repository functions over ``web_sessions``.

The cookie a browser keeps is ``<session id>.<secret>.<signature>``: the row's id, 32 random
bytes whose sha256 the row holds, and an HMAC-SHA256 of both under the installation's key. A
forged or altered cookie fails the signature before the catalog is read; a good one must still
name a row whose secret matches and whose time has not run out, so signing out (which deletes
the row), a new password (which deletes all of that user's rows) or a removed user ends it at
once, in every process."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import os
import secrets
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete
from sqlalchemy.orm import Session

from core.models import User, WebSession, utcnow
from core.settings import Settings

KEY_FILE = "session.key"
METHODS = ("password", "token", "local")
_MAX_COOKIE = 400  # longer than any cookie we make: not worth parsing


def signing_key(settings: Settings) -> bytes:
    """The key that signs cookies: ``VIDSEARCH_SESSION_SECRET``, else a random one made once and
    kept (owner-only) under ``home/secrets``, so every process of one installation agrees."""
    if settings.session_secret:
        return settings.session_secret.encode()
    path = settings.secrets_dir / KEY_FILE
    try:
        return _read_key(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    # Written whole to a private temporary file, then linked into place: a second process
    # racing this one either links first (and we read its key) or reads ours, never half.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".key-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(secrets.token_bytes(32).hex().encode())
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return _read_key(path)


def _read_key(path: Path) -> bytes:
    key = path.read_bytes().strip()
    if len(key) < 32:
        raise ValueError(f"{path} holds no usable key (delete it to make a new one)")
    return key


def _sign(key: bytes, body: str) -> str:
    mac = hmac.new(key, body.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def open_session(
    *, session: Session, user_id: int, method: str, key: bytes, days: float
) -> tuple[str, datetime]:
    """A new signed-in browser for the user: its cookie value and when it expires."""
    if method not in METHODS:
        raise ValueError(f"sign-in method {method!r} is not one of {', '.join(METHODS)}")
    secret = secrets.token_urlsafe(32)
    now = utcnow()
    row = WebSession(
        user_id=user_id,
        secret_hash=_hash(secret),
        method=method,
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    session.add(row)
    session.flush()
    body = f"{row.id}.{secret}"
    return f"{body}.{_sign(key, body)}", row.expires_at


def _parse(cookie: str | None, key: bytes) -> tuple[int, str] | None:
    if not cookie or len(cookie) > _MAX_COOKIE or cookie.count(".") != 2:
        return None
    sid, secret, signature = cookie.split(".")
    if not hmac.compare_digest(_sign(key, f"{sid}.{secret}"), signature):
        return None
    if not sid.isdigit() or len(sid) > 10:
        return None
    return int(sid), secret


def _row(session: Session, cookie: str | None, key: bytes) -> WebSession | None:
    """The session a cookie names, if the cookie is ours and its secret matches."""
    parsed = _parse(cookie, key)
    if parsed is None:
        return None
    row = session.get(WebSession, parsed[0])
    if row is None or not hmac.compare_digest(row.secret_hash, _hash(parsed[1])):
        return None
    return row


def session_user(
    *, session: Session, cookie: str | None, key: bytes
) -> tuple[User, WebSession] | None:
    """The user a cookie signs in, with its session; None for no cookie, a forged, altered or
    expired one, or one whose session was closed."""
    row = _row(session, cookie, key)
    if row is None:
        return None
    if row.expires_at <= utcnow():
        session.delete(row)
        return None
    user = session.get(User, row.user_id)
    return (user, row) if user is not None else None


def close_session(*, session: Session, cookie: str | None, key: bytes) -> bool:
    """Sign one browser out; whether there was a session to close."""
    row = _row(session, cookie, key)
    if row is None:
        return False
    session.delete(row)
    return True


def close_user_sessions(*, session: Session, user_id: int) -> int:
    """Sign every browser of the user out (a new password); how many there were."""
    result = session.execute(delete(WebSession).where(WebSession.user_id == user_id))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def drop_expired(*, session: Session) -> int:
    """Delete sessions whose time ran out."""
    result = session.execute(delete(WebSession).where(WebSession.expires_at <= utcnow()))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
