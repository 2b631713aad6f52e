"""The web UI's entry point (``vidsearch ui`` serves it): the page's look, who is watching, and
the navigation between Search, For you, Library, Ingest, Settings and the video page."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from ui.web import components as ui
from ui.web import viewer
from ui.web.resources import settings

HERE = Path(__file__).parent

st.set_page_config(page_title="vidsearch", page_icon="🎬", layout="wide")
st.logo(str(HERE / "logo.svg"), size="large")
ui.style()
cfg = settings()

pages = [
    st.Page(HERE / ui.SEARCH, title="Search", icon=":material/search:", default=True),
    st.Page(HERE / ui.FOR_YOU, title="For you", icon=":material/recommend:", url_path="for-you"),
    st.Page(
        HERE / ui.LIBRARY, title="Library", icon=":material/video_library:", url_path="library"
    ),
    st.Page(HERE / ui.INGEST, title="Add videos", icon=":material/upload:", url_path="ingest"),
    st.Page(HERE / ui.SETTINGS, title="Settings", icon=":material/settings:", url_path="settings"),
    st.Page(
        HERE / ui.VIDEO,
        title="Video",
        icon=":material/play_circle:",
        url_path="video",
        visibility="hidden",
    ),
]
current = st.navigation(pages, position="sidebar")
with st.sidebar:
    viewer.sidebar(cfg)
current.run()
