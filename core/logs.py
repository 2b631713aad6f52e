"""Logging that keeps secrets out: API tokens, sign-in cookies, ``token=`` / ``access_token=`` /
``password=`` values and the passwords in connection URLs are replaced when a record is made,
whoever logs it (our code, uvicorn, Celery, SQLAlchemy) and whichever handler writes it.

A record keeps its shape: its message template and each of its arguments are redacted apart,
so a formatter that reads ``record.args`` itself (uvicorn's access log unpacks five of them)
still finds them. Percent-encoded text is decoded before it is matched, so ``vsu%5F2%5F...``
or ``token%3D...`` is masked like the plain form."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

MASK = "[redacted]"
# vsu_<user id>_<secret> (core/users.py), a Bearer credential, a password in scheme://user:pw@host,
# and the value of any query or form field whose name says it is a secret.
_PATTERNS = (
    (re.compile(r"\b(vsu_\d{1,10}_)[A-Za-z0-9_-]+"), rf"\1{MASK}"),
    (re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]+"), rf"\1{MASK}"),
    # A scheme starts a word and is short: a pattern free to start anywhere and run far would
    # take quadratic time over a long word (a 100 kB URL in an access log). The password runs
    # to the host's @, the last before the path: it may hold an @ itself (percent-decoded).
    (
        re.compile(r"(?<![A-Za-z0-9+.-])([a-z][a-z0-9+.-]{0,30}://[^/\s:@]*:)[^\s/]+@"),
        rf"\1{MASK}@",
    ),
    (
        re.compile(
            r"(?i)\b((?:access_|refresh_|api_|id_|session_)?token|password|passwd|secret"
            r"|vidsearch_session)(\s*=\s*)(?!%[sdrifx(])[^&\s\"';,]*"
        ),
        rf"\1\2{MASK}",
    ),
)
# The whole user part of scheme://user:pw@host or scheme://user@host, masked where a URL is shown
# to people (vidsearch doctor): they need to see the host, not the account.
_URL_USER = re.compile(r"(?<![A-Za-z0-9+.-])([a-z][a-z0-9+.-]{0,30}://)[^/\s]+@")
_ENCODED_WORD = re.compile(r"(?<![^\s\"'])[^\s\"']*%[0-9A-Fa-f]{2}[^\s\"']*")  # whole words
_installed = threading.Lock()
_done = False


def _plain(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _decoded(word: str) -> str:
    # Decode until stable (a token encoded twice is still a token), at most a few times.
    for _ in range(3):
        once = unquote(word)
        if once == word:
            break
        word = once
    return word


def redact(text: str, *, url_users: bool = False) -> str:
    """The text with tokens, secret fields and URL passwords replaced by ``[redacted]``;
    ``url_users``: the user names in URLs too."""
    if "%" in text:
        # A percent-encoded word that hides a secret is replaced by its decoded, masked form.
        text = _ENCODED_WORD.sub(
            lambda m: _plain(d) if _plain(d := _decoded(m.group(0))) != d else m.group(0), text
        )
    text = _plain(text)
    return _URL_USER.sub(rf"\1{MASK}@", text) if url_users else text


def _clean_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    text = str(value)
    cleaned = redact(text)
    return value if cleaned == text else cleaned


def _clean(record: logging.LogRecord) -> None:
    if isinstance(record.msg, str):
        record.msg = redact(record.msg)
    elif record.msg is not None:
        record.msg = _clean_value(record.msg)
    args = record.args
    if isinstance(args, tuple):
        record.args = tuple(_clean_value(a) for a in args)
    elif isinstance(args, Mapping):
        record.args = {k: _clean_value(v) for k, v in args.items()}
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a malformed record is left for logging to report
        message = None
    if message is not None and redact(message) != message:
        # A secret split between the template and an argument ("token=%s"): the whole message,
        # redacted, stands in for both.
        record.msg, record.args = redact(message), ()
    if record.exc_info and record.exc_info[0] is not None:
        # Formatters reuse exc_text when it is set: set it, redacted.
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info))


def install_redaction() -> None:
    """Redact every log record made in this process from now on (idempotent)."""
    global _done
    with _installed:
        if _done:
            return
        base = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = base(*args, **kwargs)
            _clean(record)
            return record

        logging.setLogRecordFactory(factory)
        _done = True
