"""The web UI's entry point (``vidsearch ui`` serves it through ui/web/web_server.py): the
page's look, who is using it (ui/web/viewer.py), and the pages they may reach: nobody signed in
gets the sign-in page alone; a user Search, For you, Library and the video page; an admin also
Add videos and Settings."""

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
me = viewer.identify(cfg)


def _page(file: str, title: str, icon: str, path: str | None) -> st.Page:
    return st.Page(HERE / file, title=title, icon=icon, url_path=path, default=path is None)


def _admins_only() -> None:
    st.title("For admins")
    st.error("This page is for admins: ask one to add videos or change settings.", icon="🔒")


# Every page a link may name: (file, title, icon, url path; None: the start page).
SEARCH = (ui.SEARCH, "Search", ":material/search:", None)
FOR_YOU = (ui.FOR_YOU, "For you", ":material/recommend:", "for-you")
LIBRARY = (ui.LIBRARY, "Library", ":material/video_library:", "library")
INGEST = (ui.INGEST, "Add videos", ":material/upload:", "ingest")
SETTINGS = (ui.SETTINGS, "Settings", ":material/settings:", "settings")
VIDEO = (ui.VIDEO, "Video", ":material/play_circle:", "video")


def pages_for(me: viewer.Viewer | None) -> list[st.Page]:
    """The pages this person may open. A link to any other known page still lands on a page
    (the sign-in form for nobody, "for admins" for a user), never on Streamlit's "not found",
    and keeps its address so that signing in goes back to it."""
    if me is None:
        start = st.Page(HERE / ui.SIGN_IN, title="Sign in", icon=":material/login:", default=True)
        return [start] + [
            st.Page(
                HERE / ui.SIGN_IN,
                title="Sign in",
                url_path=path,
                visibility="hidden",
            )
            for _, _, _, path in (FOR_YOU, LIBRARY, INGEST, SETTINGS, VIDEO)
        ]
    shown = [SEARCH, FOR_YOU, LIBRARY] + ([INGEST, SETTINGS] if me.admin else [])
    pages = [_page(*p) for p in shown]
    if not me.admin:
        pages += [
            st.Page(_admins_only, title="For admins", url_path=p[3], visibility="hidden")
            for p in (INGEST, SETTINGS)
        ]
    file, title, icon, path = VIDEO
    pages.append(st.Page(HERE / file, title=title, icon=icon, url_path=path, visibility="hidden"))
    return pages


pages = pages_for(me)
current = st.navigation(pages, position="sidebar")
if me is not None:
    with st.sidebar:
        viewer.sidebar(cfg, me)
current.run()
