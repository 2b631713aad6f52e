"""The page shell Streamlit sends for every page address, told where the server's root is.

Opened at a page's own address (``/library``, ``/video?v=...``), Streamlit's front end does not
know whether ``/library`` is a page or the prefix the app is served under, so it first asks
``/library/_stcore/health`` and ``/library/_stcore/host-config``: two 404s in the browser's
console on every direct visit or reload before it tries the root. Its documented embedding hook,
``window.__streamlit.BACKEND_BASE_URL``, settles the question; this middleware sets it in the
shell's ``<head>`` (to the root, under ``server.baseUrlPath`` if one is set), and leaves every
other response alone."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Streamlit's own routes and ours: never the page shell.
NOT_PAGES = ("/_stcore/", "/static/", "/media/", "/component/", "/account/", "/app/static/")
MAX_SHELL = 256 * 1024  # the shell is a few kB; anything bigger is not it and passes untouched


def base_script(base_path: str) -> bytes:
    root = "/" + base_path.strip("/") + ("/" if base_path.strip("/") else "")
    code = (
        "window.__streamlit=Object.assign({},window.__streamlit||{},"
        f"{{BACKEND_BASE_URL:location.origin+{json.dumps(root)}}});"
    )
    return f"<script>{code}</script>".encode()


class AppShell:
    def __init__(self, app: ASGIApp, *, base_path: str = "") -> None:
        self.app = app
        self.script = base_script(base_path)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if (
            scope["type"] != "http"
            or scope.get("method") != "GET"
            or any(part in path for part in NOT_PAGES)
            or "." in path.rsplit("/", 1)[-1]  # a file (favicon.png, manifest.json)
        ):
            await self.app(scope, receive, send)
            return
        # Ask for the shell uncompressed, so it can be read and changed here.
        scope = dict(scope)
        scope["headers"] = [(k, v) for k, v in scope["headers"] if k != b"accept-encoding"]
        start: Message | None = None
        passing = False  # not the shell, or too big to be it: the rest goes straight through
        body = bytearray()

        async def capture(message: Message) -> None:
            nonlocal start, passing
            if passing:
                await send(message)
                return
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers", []))
                if not headers.get(b"content-type", b"").startswith(b"text/html"):
                    passing = True
                    await send(message)
                    return
                start = message
                return
            body.extend(message.get("body", b""))
            more = bool(message.get("more_body"))
            if more and len(body) <= MAX_SHELL:
                return
            passing = more
            await self._send_shell(send, start or {}, bytes(body), more)

        await self.app(scope, receive, capture)

    async def _send_shell(self, send: Send, start: Message, body: bytes, more: bool) -> None:
        if not more and b"<head>" in body:
            body = body.replace(b"<head>", b"<head>" + self.script, 1)
        headers = [(k, v) for k, v in start.get("headers", []) if k != b"content-length"]
        if not more:
            headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": more})
