"""What the pages share, made once per server process with ``st.cache_resource``: the settings,
the search service (its query model and in-memory index, warmed up), summaries, the background
ingest runner (which takes up the jobs a stopped process left) and the recommender. Keyed by the settings, so a process serving one library
never rebuilds them; a search on a page costs a search, not a model load."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import streamlit as st

from core.settings import Settings, SettingsError, get_settings
from ui.web.components import md

if TYPE_CHECKING:
    # Loaded by _build, when a page first needs them: a page that only reads the catalog (the
    # search box, its tags, the sign-in form) draws without waiting for torch to import.
    from recommender.service import Recommender
    from search.service import SearchService
    from search.summary import Summaries
    from services.ingest import BackgroundIngest


@dataclass(frozen=True)
class AppServices:
    settings: Settings
    search: SearchService
    summaries: Summaries
    ingest: BackgroundIngest
    recommender: Recommender


def settings() -> Settings:
    """The process's settings; a bad VIDSEARCH_* variable stops the page with its reason."""
    try:
        return get_settings()
    except SettingsError as exc:
        st.error(f"vidsearch cannot start: {md(exc)}")
        st.stop()
        raise  # not reached


@st.cache_resource(show_spinner="Loading the models and the index (once per server)…")
def _build(key: str, _cfg: Settings) -> AppServices:
    from services.ingest import BackgroundIngest
    from services.recommendations import recommender_for
    from services.search import build_search_service, warm_up
    from services.summaries import summaries

    cfg = _cfg  # the underscore keeps Streamlit from hashing it: ``key`` is its JSON
    search = build_search_service(cfg)
    warm_up(search)
    ingest = BackgroundIngest(cfg)
    if cfg.embedded_tasks:
        ingest.resume()  # the jobs a stopped process left (see services/ingest.py)
    return AppServices(
        settings=cfg,
        search=search,
        summaries=summaries(cfg, search.embedder),
        ingest=ingest,
        recommender=recommender_for(cfg),
    )


def services() -> AppServices:
    cfg = settings()
    return _build(cfg.model_dump_json(), cfg)
