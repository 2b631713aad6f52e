"""What the pages share, made once per server process with ``st.cache_resource``: the settings and
the process's ``Services`` (services/root.py), warmed up: the query model, the filled index, the
recommender's video vectors, the background ingest runner (which takes up the jobs a stopped
process left). Keyed by the settings, so a process serving one library never rebuilds them; a
search on a page costs a search, not a model load."""

from __future__ import annotations

import streamlit as st

from core.settings import Settings, SettingsError, get_settings
from services.root import Services
from ui.web.components import md

__all__ = ["Services", "services", "settings"]


def settings() -> Settings:
    """The process's settings; a bad VIDSEARCH_* variable stops the page with its reason."""
    try:
        return get_settings()
    except SettingsError as exc:
        st.error(f"vidsearch cannot start: {md(exc)}")
        st.stop()
        raise  # not reached


@st.cache_resource(show_spinner="Loading the models and the index (once per server)…")
def _build(key: str, _cfg: Settings) -> Services:
    # Asked for by a page that searches, summarizes, ingests or recommends: a page that only
    # reads the catalog (the search box, its tags, the sign-in form) draws without waiting for
    # torch to import. The underscore keeps Streamlit from hashing _cfg: ``key`` is its JSON.
    built = Services(_cfg)
    built.warm_up()
    return built


def services() -> Services:
    cfg = settings()
    return _build(cfg.model_dump_json(), cfg)
