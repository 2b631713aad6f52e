"""Which exceptions mean that something the work needs is unreachable for now (the catalog
restarting, a network that timed out): a retry may cure them, so a job is released, not failed."""

from __future__ import annotations

from sqlalchemy.exc import OperationalError

# The catalog's driver reports a lost or refused connection as OperationalError; sockets and
# clients of the broker and the index raise the built-in ConnectionError and TimeoutError.
UNREACHABLE: tuple[type[Exception], ...] = (OperationalError, ConnectionError, TimeoutError)
