"""Errors that decide what happens to a job: bad input fails it for good, transient faults retry."""

from __future__ import annotations


class BadInput(Exception):
    """The file cannot be indexed; retrying will not help. The message names the file and why."""

    def __init__(self, path: object, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


class TransientError(Exception):
    """A fault outside the file (database or index unreachable); the task retries with backoff."""
