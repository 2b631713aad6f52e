"""The pieces pages are built from: times and durations as people read them, the relevance bar,
thumbnails, links to the video page, video tiles and the page's look."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import streamlit as st

from core.timecode import clock as clock  # the pages write times as ui.clock

# Page files, relative to app.py (st.page_link and st.switch_page take these).
SEARCH = "views/search.py"
VIDEO = "views/video.py"
FOR_YOU = "views/for_you.py"
LIBRARY = "views/library.py"
INGEST = "views/ingest.py"
SETTINGS = "views/settings.py"
SIGN_IN = "views/sign_in.py"

STATUS_BADGES = {
    "ready": ("Ready", "green"),
    "processing": ("Indexing", "blue"),
    "pending": ("Waiting", "gray"),
    "failed": ("Failed", "red"),
}
REASON_ICONS = {
    "content": ":material/auto_awesome:",
    "co-watch": ":material/group:",
    "popular": ":material/trending_up:",
    "new": ":material/fiber_new:",
    "library": ":material/video_library:",
}

CSS = """
<style>
h1 { font-size: 2.1rem !important; padding-top: 0 !important; }
[data-testid="stMainBlockContainer"] { padding-top: 3rem; }
[class*="st-key-tile-"] img, [class*="st-key-card-"] img, [class*="st-key-lib-"] img {
  border-radius: 10px; aspect-ratio: 16 / 9; object-fit: cover; width: 100%;
}
[class*="st-key-card-"] { transition: box-shadow .15s ease-in-out; }
[class*="st-key-card-"]:hover { box-shadow: 0 4px 18px rgba(0, 0, 0, .10); }
.vs-meta { color: rgba(49, 51, 63, .65); font-size: .88rem; margin: -.4rem 0 .3rem 0; }
.vs-thumb-missing { aspect-ratio: 16 / 9; border-radius: 10px; display: flex;
  align-items: center; justify-content: center; font-size: 2rem;
  background: linear-gradient(135deg, #e8ebf2, #d5dae6); color: #8a93a6; }
.vs-progress { height: 4px; background: #e6e8ee; border-radius: 2px; margin-top: -.35rem; }
.vs-progress > div { height: 4px; background: #ff4b4b; border-radius: 2px; }
[class*="st-key-chips-"] button { border-radius: 999px; padding: .1rem .7rem; min-height: 0; }
[class*="st-key-tile-"] a p { font-weight: 600; }
/* Forms that post to the sign-in endpoints (ui/web/account.py), drawn like Streamlit's own. */
.vs-post { display: inline-block; margin: 0 .35rem .35rem 0; }
.vs-post button, .vs-signin button {
  font: inherit; border: 1px solid rgba(49, 51, 63, .2); border-radius: .5rem;
  background: #fff; color: rgb(49, 51, 63); padding: .25rem .75rem; min-height: 2.5rem;
  cursor: pointer; }
.vs-post button:hover, .vs-signin button:hover { border-color: #ff4b4b; color: #ff4b4b; }
.vs-signin { display: flex; flex-direction: column; gap: .75rem; max-width: 22rem; }
.vs-signin label { display: flex; flex-direction: column; gap: .25rem; font-size: .9rem; }
.vs-signin input { font: inherit; padding: .5rem .75rem; border-radius: .5rem;
  border: 1px solid rgba(49, 51, 63, .2); background: #f0f2f6; }
.vs-signin button[type="submit"] { background: #ff4b4b; border-color: #ff4b4b; color: #fff;
  align-self: flex-start; padding: .35rem 1.2rem; }
.vs-signin button[type="submit"]:hover { background: #ff3333; color: #fff; }
</style>
"""


_MARKDOWN = re.compile(r"([\\`*_\[\]<>#~$|])")


def md(text: object) -> str:
    """Text from files and people (titles, transcripts, paths, reasons) as literal markdown: an
    underscore in a file name is not italics, a dollar sign is not mathematics."""
    return _MARKDOWN.sub(r"\\\1", str(text))


def style() -> None:
    st.html(CSS)


def duration_label(seconds: float | None) -> str:
    """A video's length in whole seconds, cut as players cut it (8.88 s reads 0:08 there); give
    it the card's ``length`` (services.library.timeline_end), which is what the player counts."""
    return clock(seconds) if seconds else "–"


def summary_text(text: str) -> str:
    """A summary as markdown: each timestamped sentence on its own line."""
    return "  \n".join(md(line.strip()) for line in text.splitlines() if line.strip())


def relevance(score: float) -> float:
    """The bar's length: 1 where one signal (picture, speech, words) is fully certain; results
    under the relevance cut-off never reach a page."""
    return max(0.0, min(1.0, score))


def relevance_bar(score: float) -> None:
    st.progress(relevance(score), text=f"Relevance {relevance(score):.0%}")


def thumbnail(path: Path | None, *, caption: str | None = None) -> None:
    if path is not None:
        st.image(str(path), caption=caption, width="stretch")
    else:
        st.html('<div class="vs-thumb-missing">▶</div>')


def video_link(
    video_id: str, label: str, *, start: float | None = None, icon: str | None = None
) -> None:
    """A link to the video page, playing from ``start`` (seconds) when given."""
    params = {"v": video_id}
    if start:
        params["t"] = f"{start:.2f}"
    st.page_link(VIDEO, label=label, icon=icon, query_params=params)


def status_badge(status: str) -> None:
    label, colour = STATUS_BADGES.get(status, (status, "gray"))
    st.badge(label, color=colour)  # type: ignore[arg-type]


def watch_progress(fraction: float | None) -> None:
    if fraction:
        width = max(0.0, min(1.0, fraction)) * 100
        st.html(f'<div class="vs-progress"><div style="width:{width:.0f}%"></div></div>')


def video_tile(
    card: Mapping[str, Any],
    *,
    key: str,
    start: float | None = None,
    caption: str | None = None,
    progress: float | None = None,
) -> None:
    """A thumbnail, the title linking to the video page, its duration and a line under it."""
    with st.container(key=f"tile-{key}"):
        thumbnail(card.get("thumbnail"))
        watch_progress(progress)
        video_link(card["video_id"], md(card["title"]), start=start)
        meta = duration_label(card.get("duration"))
        st.caption(f"{meta} · {caption}" if caption else meta)


def tile_grid(items: list[dict[str, Any]], *, columns: int = 4, key: str) -> None:
    """Tiles in rows of ``columns``; each item: card, and optional start, caption (after an
    optional icon) and progress."""
    for row in range(0, len(items), columns):
        cols = st.columns(columns)
        for col, item in zip(cols, items[row : row + columns], strict=False):
            with col:
                video_tile(
                    item["card"],
                    key=f"{key}-{row}-{item['card']['video_id']}",
                    start=item.get("start"),
                    caption=" ".join(filter(None, [item.get("icon"), item.get("caption")])),
                    progress=item.get("progress"),
                )
