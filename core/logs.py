"""Logging that keeps secrets out: API tokens and the passwords in connection URLs are replaced
when a record is made, whoever logs it (our code, uvicorn, Celery, SQLAlchemy) and whichever
handler writes it."""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

# vsu_<user id>_<secret> (core/users.py), a Bearer credential, a password in scheme://user:pw@host.
_PATTERNS = (
    (re.compile(r"\b(vsu_\d{1,10}_)[A-Za-z0-9_-]+"), r"\1[redacted]"),
    (re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]+"), r"\1[redacted]"),
    (re.compile(r"([a-z][a-z0-9+.-]*://[^/\s:@]*:)[^@\s/]+@"), r"\1[redacted]@"),
)
_installed = threading.Lock()
_done = False


def redact(text: str) -> str:
    """The text with tokens and URL passwords replaced by ``[redacted]``."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _clean(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a malformed record is left for logging to report
        return
    cleaned = redact(message)
    if cleaned != message:
        record.msg, record.args = cleaned, None
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
