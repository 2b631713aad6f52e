"""What one caller may send: requests a minute (a token bucket per caller) and bytes a request
(an ASGI middleware that refuses a body over its endpoint's limit before reading it, and stops
reading one that grows past it)."""

from __future__ import annotations

import json
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import HTTPException

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

JSON_BODY_BYTES = 1024 * 1024  # a JSON request body: far more than any endpoint needs
MAX_CALLERS = 10_000  # buckets kept; the longest idle one goes first


class RateLimited(HTTPException):
    def __init__(self, per_minute: int, retry_after: float) -> None:
        wait = max(1, math.ceil(retry_after))
        super().__init__(
            429,
            f"rate limit: {per_minute} requests a minute per caller; retry in {wait} s",
            {"Retry-After": str(wait)},
        )


class RateLimiter:
    """A token bucket per caller: ``per_minute`` requests a minute refilled continuously, up to
    a burst of a sixth of that (ten seconds' worth). Memory is bounded by MAX_CALLERS."""

    def __init__(self, per_minute: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.rate = per_minute / 60.0
        self.burst = max(1.0, per_minute / 6.0)
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def charge(self, key: str) -> None:
        """Take one request from the caller's bucket; RateLimited (HTTP 429) when it is empty."""
        if self.per_minute <= 0:
            return
        now = self.clock()
        with self._lock:
            tokens, then = self._buckets.pop(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - then) * self.rate)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                raise RateLimited(self.per_minute, (1.0 - tokens) / self.rate)
            self._buckets[key] = (tokens - 1.0, now)
            while len(self._buckets) > MAX_CALLERS:
                self._buckets.popitem(last=False)


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body is over the limit of {limit} bytes")


class BodyLimit:
    """ASGI middleware: a request whose body is over ``limit_for(path)`` bytes is answered 413.
    A declared Content-Length is checked before anything is read; a body sent without one
    (chunked) is counted as it arrives and cut off at the limit, so memory and disk stay
    bounded whatever the client claims."""

    def __init__(self, app: ASGIApp, limit_for: Callable[[str], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope.get("path", ""))
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refuse(send, BodyTooLarge(limit))
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    # FastAPI passes an HTTPException raised while reading the body through.
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, counted, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _refuse(send: Send, exc: HTTPException) -> None:
    body = json.dumps({"detail": exc.detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": exc.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": body})
