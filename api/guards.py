"""The HTTP edge that the API and the web UI share: which mode a server runs in (local
single-user mode on loopback, or sign-in required), which Host names it answers to, and the
refusal of requests other websites make through a visitor's browser.

- **Host.** In local mode only the loopback names (localhost, 127.0.0.1, [::1]), the bound
  address and ``VIDSEARCH_ALLOWED_HOSTS`` are answered, so a page whose own name was rebound to
  127.0.0.1 (DNS rebinding) gets 400. With sign-in required, any Host is answered until
  ``VIDSEARCH_ALLOWED_HOSTS`` names some.
- **Other websites.** A state-changing request (anything but GET, HEAD, OPTIONS) or a WebSocket
  whose ``Origin`` (or, without one, ``Referer``) is not the server's own, an allowed host or a
  listed CORS origin is refused with 403, in every mode. Requests without either header come
  from programs (curl, the CLI), not from a browser on another site, and pass.
- **Proxies.** A request carrying any proxy header, empty or not, came through a proxy: in
  local mode it is no longer the machine's owner and must sign in or send a token.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Awaitable, Callable, Iterable, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from core.settings import Settings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
_LOOPBACK_ALIASES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}
# Headers that only a proxy (or someone pretending to be one) sends.
PROXY_HEADERS = frozenset(
    {
        "forwarded",
        "forwarded-for",
        "via",
        "x-real-ip",
        "x-client-ip",
        "x-cluster-client-ip",
        "x-original-forwarded-for",
        "x-originating-ip",
        "true-client-ip",
        "cf-connecting-ip",
        "fastly-client-ip",
        "client-ip",
    }
)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def is_loopback(host: str | None) -> bool:
    """Whether a bind address reaches only this machine (127.0.0.0/8, ::1, localhost)."""
    if not host:
        return False
    name = host.strip().strip("[]").lower()
    if name in _LOOPBACK_ALIASES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def is_proxied(header_names: Iterable[str]) -> bool:
    """Whether a request came through a proxy: any proxy header at all, whatever its value."""
    for name in header_names:
        low = name.lower()
        if low in PROXY_HEADERS or low.startswith("x-forwarded-"):
            return True
    return False


@dataclass(frozen=True)
class Mode:
    """How a server admits people, decided once at start-up from VIDSEARCH_AUTH and the
    address it is bound to."""

    local: bool  # a caller with no token (no sign-in) acts as the machine's owner
    trust_proxies: bool  # VIDSEARCH_AUTH=off: even a proxied request is the owner
    reason: str

    @classmethod
    def decide(cls, settings: Settings, host: str | None) -> Mode:
        if settings.auth == "off":
            note = "VIDSEARCH_AUTH=off"
            if not is_loopback(host):
                note += f", bound to {host}: ANYONE WHO CAN REACH IT ACTS AS THE OWNER"
            return cls(True, True, note)
        if settings.auth == "auto" and is_loopback(host):
            return cls(True, False, f"VIDSEARCH_AUTH=auto, bound to {host}")
        why = "VIDSEARCH_AUTH=required" if settings.auth == "required" else f"bound to {host}"
        return cls(False, False, why)

    def admits_owner(self, header_names: Iterable[str]) -> bool:
        """Whether a request without credentials is the machine's owner."""
        if not self.local:
            return False
        return self.trust_proxies or not is_proxied(header_names)


def accepted_hosts(settings: Settings, bound: str | None, mode: Mode) -> list[str] | None:
    """The Host names a server answers to; None: any. A local-mode server on loopback answers
    only to loopback names (and the allowed hosts): any other name reaching it is a page of
    someone else's rebound to 127.0.0.1. Elsewhere a server answers to whatever names the
    network gives it, until ``VIDSEARCH_ALLOWED_HOSTS`` lists them."""
    if mode.local and is_loopback(bound):
        return [*LOOPBACK_NAMES, *settings.allowed_hosts]
    if not settings.allowed_hosts:
        return None
    names = [*LOOPBACK_NAMES, *settings.allowed_hosts]
    if bound and bound.strip("[]") not in ("0.0.0.0", "::"):
        names.append(bound.strip("[]"))
    return names


def _hostname(netloc: str) -> str | None:
    try:
        parsed = urlsplit(f"//{netloc}")
        parsed.port  # noqa: B018 - raises for a port that is not a number
    except ValueError:
        return None
    if parsed.username is not None or parsed.password is not None or not parsed.hostname:
        return None
    return parsed.hostname.lower().rstrip(".")


def host_matches(hostname: str, patterns: Sequence[str]) -> bool:
    """``hostname`` is one of the patterns (``*.example`` matches its subdomains)."""
    for pattern in patterns:
        p = pattern.strip().strip("[]").lower().rstrip(".")
        if p == "*" or p == hostname or (p.startswith("*.") and hostname.endswith(p[1:])):
            return True
    return False


def _origin_netloc(value: str) -> tuple[str, str] | None:
    """(scheme, host[:port]) of an Origin or Referer; None when it is no web origin ("null")."""
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return parts.scheme, parts.netloc.lower()


def _host_port(netloc: str) -> tuple[str | None, int | None]:
    try:
        port = urlsplit(f"//{netloc}").port
    except ValueError:
        return None, None
    return _hostname(netloc), port


def _same_server(origin_scheme: str, origin: str, own_scheme: str, host: str) -> bool:
    """Whether an origin names this server. The scheme is left out when neither side names a
    port: behind a proxy that ends TLS, pages are https while the server sees http, and one
    port never serves two sites."""
    o_host, o_port = _host_port(origin)
    h_host, h_port = _host_port(host)
    if o_host is None or o_host != h_host:
        return False
    if o_port is None and h_port is None:
        return True
    default = {"http": 80, "https": 443, "ws": 80, "wss": 443}
    return (o_port or default.get(origin_scheme)) == (h_port or default.get(own_scheme))


class RequestGuard:
    """ASGI middleware for both servers: a Host outside ``hosts`` is 400, a cross-site
    state-changing request or WebSocket is 403 (see the module's docstring)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        hosts: Sequence[str] | None,
        allowed_hosts: Sequence[str] = (),
        cors_origins: Sequence[str] = (),
    ) -> None:
        self.app = app
        self.hosts = list(hosts) if hosts is not None else None
        self.allowed_hosts = list(allowed_hosts)
        self.cors_origins = {o.rstrip("/").lower() for o in cors_origins}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host", "")
        if self.hosts is not None:
            name = _hostname(host)
            if name is None or not host_matches(name, self.hosts):
                await _refuse(scope, send, 400, f"this server does not answer to Host {host!r}")
                return
        checks_origin = scope["type"] == "websocket" or scope.get("method") not in SAFE_METHODS
        if checks_origin and not self._same_site(scope, headers, host):
            await _refuse(
                scope, send, 403, "refused: the request came from another website (Origin)"
            )
            return
        await self.app(scope, receive, send)

    def _same_site(self, scope: Scope, headers: dict[str, str], host: str) -> bool:
        claimed = headers.get("origin")
        if claimed is None:
            claimed = headers.get("referer")
            if claimed is None:
                return True  # a program, not a page: browsers send Origin on such requests
        origin = _origin_netloc(claimed)
        if origin is None:
            return False  # "null" (a sandboxed frame, a file, a redirect chain) is nobody's
        scheme, netloc = origin
        if f"{scheme}://{netloc}" in self.cors_origins:
            return True
        if _same_server(scheme, netloc, str(scope.get("scheme", "http")), host.lower()):
            return True
        name = _hostname(netloc)
        return (
            name is not None and bool(self.allowed_hosts) and host_matches(name, self.allowed_hosts)
        )


async def _refuse(scope: Scope, send: Send, status: int, reason: str) -> None:
    if scope["type"] == "websocket":
        # Before accepting, a close is answered with 403 by the server.
        await send({"type": "websocket.close", "code": 1008, "reason": reason[:120]})
        return
    body = json.dumps({"detail": reason}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
