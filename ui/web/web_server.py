"""The web UI's server: Streamlit's own ASGI app (``st.App``) running ``ui/web/app.py``, with
the sign-in endpoints beside it (ui/web/account.py) and the same edge as the HTTP API in front
of everything, pages, WebSocket and media included (api/guards.py): only this server's host
names on loopback, and no state-changing request or WebSocket from another website. The page
shell is told where the server's root is (ui/web/shell.py).

``vidsearch ui`` runs ``streamlit run`` on this file; Streamlit finds ``app`` and serves it with
uvicorn, after loading its configuration (the bound address among it)."""

from __future__ import annotations

import functools
from pathlib import Path

import streamlit as st
from starlette.middleware import Middleware
from streamlit import config

from api.guards import Mode, RequestGuard, accepted_hosts
from core.settings import get_settings
from ui.web import access, account
from ui.web.shell import AppShell

SCRIPT = Path(__file__).with_name("app.py")


@functools.cache
def mode() -> Mode:
    return access.mode(get_settings())


settings = get_settings()
app = st.App(
    SCRIPT,
    routes=account.routes(settings, mode),
    middleware=[
        Middleware(
            RequestGuard,
            hosts=accepted_hosts(settings, access.bound_address(), mode()),
            allowed_hosts=settings.allowed_hosts,
            cors_origins=settings.cors_origins,
        ),
        Middleware(AppShell, base_path=str(config.get_option("server.baseUrlPath") or "")),
    ],
)
