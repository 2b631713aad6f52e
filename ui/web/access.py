"""How this web UI server admits people (api/guards.Mode): local single-user mode when it is
bound to loopback with ``VIDSEARCH_AUTH=auto`` (or ``off``), sign-in required otherwise. The
server's launcher and every page ask here, so both halves decide alike."""

from __future__ import annotations

from api.guards import Mode
from core.settings import Settings


def bound_address() -> str:
    """The address Streamlit listens on (``--server.address``); unset, it is every interface."""
    from streamlit import config

    return str(config.get_option("server.address") or "0.0.0.0")


def mode(settings: Settings) -> Mode:
    return Mode.decide(settings, bound_address())
