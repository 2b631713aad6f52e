"""Web UI passwords: argon2id hashes (argon2-cffi, RFC 9106's low-memory profile), checked in
constant time, and the same work done for a name nobody has, so timing tells nothing."""

from __future__ import annotations

import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 8  # NIST SP 800-63B's floor for a password a person chooses
MAX_LENGTH = 1024  # hashing is costly: nobody's password is longer, an attacker's could be


class PasswordError(ValueError):
    """A password that cannot be set; the message says why (never the password)."""


@functools.cache
def _hasher() -> PasswordHasher:
    return PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    return _hasher().hash("no user has this password")


def check_password(password: str) -> str:
    if not isinstance(password, str) or len(password) < MIN_LENGTH:
        raise PasswordError(f"a password needs at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise PasswordError(f"a password may have at most {MAX_LENGTH} characters")
    if not password.strip():
        raise PasswordError("a password cannot be only spaces")
    return password


def hash_password(password: str) -> str:
    """The argon2id hash to store (PasswordError for a password too short or too long)."""
    return _hasher().hash(check_password(password))


def verify_password(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches the stored hash; with nothing stored, the same work is
    done against a dummy hash and the answer is False."""
    if not isinstance(password, str) or not password or len(password) > MAX_LENGTH:
        password = ""  # still hashed below, so a refusal takes as long
    try:
        ok = _hasher().verify(stored or _dummy_hash(), password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    return ok and stored is not None and bool(password)


def needs_rehash(stored: str) -> bool:
    """Whether a stored hash was made with weaker parameters than today's."""
    try:
        return _hasher().check_needs_rehash(stored)
    except InvalidHashError:
        return True
